import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MariadbOptions } from "../render";
import type { HostPort } from "../topology";
import type { KubernetesContext } from "./context";
import { kubernetesMariadbCnf, MARIADB_PATHS } from "./mounted-files";
import { clientLabels, commandProbes, configChecksum, podLabels, resources, sizeOf, volumeClaim } from "./pod-spec";

/** One MariaDB server: its Kubernetes name, role, server id and address; plus the Secret holding the root password. */
export interface MysqlServerArgs extends KubernetesContext {
  server: string;
  role: MariadbOptions["role"];
  serverId: number;
  address: HostPort;
  rootSecret: pulumi.Input<string>;
}

/** One MariaDB server: a single-pod StatefulSet on its own volume, its rendered config, and a ClusterIP Service. */
export class MysqlServer extends pulumi.ComponentResource {
  /** The StatefulSet, for Jobs that must wait until the server is ready. */
  readonly statefulSet: k8s.apps.v1.StatefulSet;

  constructor(name: string, args: MysqlServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:MysqlServer", name, {}, opts);
    const { cfg, namespace, server, address } = args;
    const t = cfg.topology;
    const cnf = kubernetesMariadbCnf(t, args);
    const conf = new k8s.core.v1.ConfigMap(
      `${name}-cnf`,
      { metadata: { name: `${server}-cnf`, namespace }, data: { "my.cnf": cnf } },
      { parent: this },
    );
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-server`,
      {
        metadata: { name: server, namespace },
        spec: {
          serviceName: server,
          replicas: 1,
          selector: { matchLabels: { "app.kubernetes.io/name": server } },
          template: {
            metadata: {
              // Replicas connect to the primary, so they carry the client label too.
              labels: { ...podLabels(server), "floodgate.dev/store": "mysql", ...clientLabels("mysql") },
              annotations: { "floodgate.dev/config-sha256": configChecksum(cnf) },
            },
            spec: {
              terminationGracePeriodSeconds: 60,
              containers: [
                {
                  name: "mariadb",
                  image: cfg.images.mariadb,
                  // The whole rendered file is the config, as on the local stack; the image's entrypoint
                  // still initialises a new datadir (root password from the Secret) before starting it.
                  args: ["mariadbd", "--defaults-file=/etc/floodgate/my.cnf"],
                  env: [
                    {
                      name: "MARIADB_ROOT_PASSWORD",
                      valueFrom: { secretKeyRef: { name: args.rootSecret, key: "rootPassword" } },
                    },
                  ],
                  ports: [{ name: "mysql", containerPort: address.port }],
                  volumeMounts: [
                    { name: "data", mountPath: MARIADB_PATHS.datadir },
                    { name: "cnf", mountPath: "/etc/floodgate", readOnly: true },
                  ],
                  resources: resources(sizeOf(t, "mysql")),
                  ...commandProbes(["healthcheck.sh", "--connect", "--innodb_initialized"], address.port),
                },
              ],
              volumes: [{ name: "cnf", configMap: { name: conf.metadata.name } }],
            },
          },
          volumeClaimTemplates: [volumeClaim("data", cfg.kubernetes.storageClass, cfg.kubernetes.volumeGi.mysql)],
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: server, namespace },
        spec: {
          selector: { "app.kubernetes.io/name": server },
          ports: [{ name: "mysql", port: address.port, targetPort: address.port }],
        },
      },
      { parent: this },
    );
    this.registerOutputs({ statefulSet: this.statefulSet.metadata.name });
  }
}
