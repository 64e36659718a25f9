import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MariadbOptions } from "../../render";
import type { HostPort } from "../../topology";
import { groupLabels, KEEP_CLAIMS, placement } from "./availability";
import type { DeployConfig } from "../../deployment";
import { PATHS, type KubernetesContext } from "./context";
import { runAsImageUser, scratchMounts, volumesOwnedBy } from "./image-users";
import { kubernetesMariadbCnf } from "./mounted-files";
import { clientLabels, commandProbes, configChecksum, podLabels, resources, sizeOf, volumeClaim } from "./pod-spec";

/** A readiness command: mariadb-admin pings the server on its own TCP port, no credentials. */
export function mariadbPing(port: number): string[] {
  return ["mariadb-admin", "--no-defaults", "--protocol=tcp", "-h", "127.0.0.1", "-P", String(port), "ping"];
}

/**
 * The availability group of every MariaDB server: the primary and its replicas never share a node,
 * so losing one node leaves a copy to promote, and the group's PodDisruptionBudget lets a drain
 * take one of them at a time.
 */
export const MYSQL_GROUP = "mysql";

/** One MariaDB server: its Kubernetes name, role, server id and address; plus the Secret holding the root password. */
export interface MysqlServerArgs extends Pick<KubernetesContext, "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "images" | "kubernetes">;
  server: string;
  role: MariadbOptions["role"];
  serverId: number;
  address: HostPort;
  rootSecret: pulumi.Input<string>;
}

/** One MariaDB server: a single-pod StatefulSet on its own volume, its rendered config, and a ClusterIP Service. */
export class MysqlServer extends pulumi.ComponentResource {
  /** The server's StatefulSet (awaited until its pod is ready): Jobs that log in to it wait for it. */
  readonly ready: pulumi.Resource;

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
    this.ready = new k8s.apps.v1.StatefulSet(
      `${name}-server`,
      {
        metadata: { name: server, namespace },
        spec: {
          serviceName: server,
          replicas: 1,
          selector: { matchLabels: { "app.kubernetes.io/name": server } },
          template: args.podSecrets.template(
            {
              metadata: {
                // Replicas connect to the primary, so they carry the client label too.
                labels: {
                  ...podLabels(server),
                  "floodgate.dev/store": "mysql",
                  ...clientLabels("mysql"),
                  // The primary and every replica are one group: no two on a node (see MYSQL_GROUP).
                  ...groupLabels(MYSQL_GROUP),
                },
                annotations: { "floodgate.dev/config-sha256": configChecksum(cnf) },
              },
              spec: {
                ...placement(MYSQL_GROUP, "hard"),
                terminationGracePeriodSeconds: 60,
                // The data volume is mysql's to write from its first start (the entry point runs as mysql).
                securityContext: volumesOwnedBy("mariadb"),
                containers: [
                  {
                    name: "mariadb",
                    image: cfg.images.mariadb,
                    // The whole rendered file is the config, as on the local stack. On an empty datadir
                    // the image's entry point (images/mariadb-entrypoint) first runs mariadb-install-db
                    // and gives root@'%' MARIADB_ROOT_PASSWORD; it never applies the variable again.
                    args: [`--defaults-file=${PATHS.mariadbConf}/my.cnf`],
                    env: [
                      {
                        name: "MARIADB_ROOT_PASSWORD",
                        valueFrom: { secretKeyRef: { name: args.rootSecret, key: "rootPassword" } },
                      },
                    ],
                    ports: [{ name: "mysql", containerPort: address.port }],
                    volumeMounts: [
                      { name: "data", mountPath: PATHS.mariadbData },
                      { name: "cnf", mountPath: PATHS.mariadbConf, readOnly: true },
                      ...scratchMounts("mariadb"),
                    ],
                    resources: resources(sizeOf(t, "mysql")),
                    securityContext: runAsImageUser("mariadb"),
                    // The server's own client over TCP (the image has no HTTP client nor healthcheck.sh):
                    // "access denied" still proves it serves, so the probe needs no password. The
                    // first start's initialisation runs with networking off, so it is not ready before.
                    ...commandProbes(mariadbPing(address.port), address.port),
                  },
                ],
                volumes: [{ name: "cnf", configMap: { name: conf.metadata.name } }],
              },
            },
            { firstStartOnly: [{ secret: args.rootSecret, key: "rootPassword" }] },
          ),
          volumeClaimTemplates: [volumeClaim("data", cfg.kubernetes.storageClass, cfg.kubernetes.volumeGi.mysql)],
          persistentVolumeClaimRetentionPolicy: KEEP_CLAIMS,
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
    this.registerOutputs({ ready: this.ready });
  }
}
