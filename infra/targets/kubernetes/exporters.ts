import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { secretValues, withSecrets, type DeployConfig } from "../../deployment";
import { renderExporterMyCnf } from "../../render";
import { firstAddress, hostPort, NAMES, mysqldExporterName } from "../../topology";
import type { KubernetesContext } from "./context";
import { runAsImageUser, type BuiltImage } from "./image-users";
import { NodeExporter } from "./node-exporter";
import { clusterServiceSpec, secretEnv } from "./object-specs";
import { clientLabels, httpProbes, podLabels, resources, sizeOf } from "./pod-spec";

type Container = k8s.types.input.core.v1.Container;

/** What Exporters reads: the addresses, both namespaces, the Secrets registry, and the deployment's topology, secrets and images. */
export interface ExportersArgs extends Pick<
  KubernetesContext,
  "addresses" | "namespace" | "hostNamespace" | "podSecrets"
> {
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images">;
}

/** The exporters Prometheus scrapes for the stores: one mysqld exporter per server, the Redis exporter, node exporters. */
export class Exporters extends pulumi.ComponentResource {
  constructor(name: string, args: ExportersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:Exporters", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const servers = [a.mysqlPrimary, ...a.mysqlReplicas];
    const secret = args.podSecrets.secret(
      `${name}-secrets`,
      "exporter-secrets",
      secretValues(cfg.secrets).apply((values) => {
        const real = withSecrets(t, values);
        const cnfs = servers.map((server, i) => [`${mysqldExporterName(i)}.cnf`, renderExporterMyCnf(real, server)]);
        return { ...Object.fromEntries(cnfs), redisExporterPassword: values.redisExporterPassword };
      }),
      { parent: this },
    );
    const service = (svc: string, port: number) =>
      new k8s.core.v1.Service(
        `${name}-${svc}`,
        { metadata: { name: svc, namespace }, spec: clusterServiceSpec(svc, { metrics: port }) },
        { parent: this },
      );
    const deployment = (
      svc: string,
      port: number,
      imageUser: BuiltImage,
      container: Omit<Container, "name" | "resources">,
      labels = {},
    ) => {
      new k8s.apps.v1.Deployment(
        `${name}-${svc}`,
        {
          metadata: { name: svc, namespace },
          spec: {
            replicas: 1,
            selector: { matchLabels: { "app.kubernetes.io/name": svc } },
            template: args.podSecrets.template({
              metadata: { labels: { ...podLabels(svc), ...labels } },
              spec: {
                containers: [
                  {
                    name: "exporter",
                    ...container,
                    ports: [{ name: "metrics", containerPort: port }],
                    resources: resources(sizeOf(t, "exporter")),
                    securityContext: runAsImageUser(imageUser),
                    ...httpProbes("/metrics", port),
                  },
                ],
                volumes: [{ name: "secrets", secret: { secretName: secret.metadata.name } }],
              },
            }),
          },
        },
        { parent: this },
      );
      service(svc, port);
    };
    a.mysqldExporters.forEach((exporter, i) =>
      deployment(
        mysqldExporterName(i),
        exporter.port,
        "mysqldExporter",
        {
          image: cfg.images.mysqldExporter,
          args: [
            `--config.my-cnf=/etc/exporter/${mysqldExporterName(i)}.cnf`,
            `--web.listen-address=:${exporter.port}`,
          ],
          volumeMounts: [{ name: "secrets", mountPath: "/etc/exporter", readOnly: true }],
        },
        clientLabels("mysql"),
      ),
    );
    deployment(
      NAMES.redisExporter,
      a.redisExporter.port,
      "redisExporter",
      {
        image: cfg.images.redisExporter,
        // The local stack's flags (Debian's exporter); the password only from the environment, never argv.
        args: [
          `-redis.addr=redis://${hostPort(firstAddress(a, "redis"))}`,
          "-redis.user=exporter",
          `-web.listen-address=:${a.redisExporter.port}`,
        ],
        env: [secretEnv("REDIS_PASSWORD", secret.metadata.name, "redisExporterPassword")],
      },
      clientLabels("redis"),
    );
    new NodeExporter(
      `${name}-node`,
      { cfg, addresses: a, namespace: args.hostNamespace, podSecrets: args.podSecrets },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
