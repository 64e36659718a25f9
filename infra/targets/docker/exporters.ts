import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderExporterMyCnf } from "../../render";
import { firstAddress, hostPort, mysqldExporterName, mysqldExporterTargets, NAMES } from "../../topology";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import type { DeployConfig } from "../../deployment";
import { PATHS, type DockerContext } from "./context";

/** What Exporters reads: the addresses, the network, the exporters' secrets and images, and nginx. */
export interface ExportersArgs extends Pick<DockerContext, "addresses" | "network" | "secretTopology"> {
  cfg: Pick<DeployConfig, "topology" | "secrets">;
  images: Pick<DockerContext["images"], "nodeExporter" | "nginxExporter" | "redisExporter" | "mysqldExporter">;
  /** nginx's container: the nginx exporter starts after it (it exits when nginx does not answer at its start). */
  nginx: pulumi.Input<pulumi.Resource>;
}

/** The exporters Prometheus scrapes: node, nginx, Redis (multi-target) and one mysqld exporter per server. */
export class Exporters extends pulumi.ComponentResource {
  constructor(name: string, args: ExportersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:Exporters", name, {}, opts);
    const t = args.cfg.topology;
    const a = args.addresses;
    const probe = (port: number, p: string) => httpHealthcheck(port, p);
    const exporter = (
      container: string,
      spec: Omit<docker.ContainerArgs, "name" | "networksAdvanced">,
      dependsOn: pulumi.Input<pulumi.Resource>[] = [],
    ) =>
      new docker.Container(
        `${name}-${container}`,
        {
          name: container,
          networksAdvanced: onNetwork(args.network, container),
          ...limits("exporter", t),
          ...LONG_RUNNING,
          ...spec,
        },
        { parent: this, deleteBeforeReplace: true, dependsOn },
      );
    exporter(NAMES.nodeExporter, {
      image: args.images.nodeExporter,
      command: [`--web.listen-address=0.0.0.0:${a.nodeExporter.port}`, "--path.rootfs=/host"],
      // The host's own filesystems, read-only: node_exporter reports the machine, not the container.
      volumes: [{ hostPath: "/", containerPath: "/host", readOnly: true }],
      healthcheck: probe(a.nodeExporter.port, "/metrics"),
    });
    exporter(
      NAMES.nginxExporter,
      {
        image: args.images.nginxExporter,
        command: [
          `-nginx.scrape-uri=http://${hostPort(a.nginxStatus)}/stub_status`,
          `-web.listen-address=0.0.0.0:${a.nginxExporter.port}`,
        ],
        healthcheck: probe(a.nginxExporter.port, "/metrics"),
      },
      [args.nginx],
    );
    exporter(NAMES.redisExporter, {
      image: args.images.redisExporter,
      // The local stack's flags (Debian's exporter); the password only from the environment, never argv.
      command: [
        `-redis.addr=redis://${hostPort(firstAddress(a, "redis"))}`,
        "-redis.user=exporter",
        `-web.listen-address=0.0.0.0:${a.redisExporter.port}`,
      ],
      envs: [pulumi.interpolate`REDIS_PASSWORD=${args.cfg.secrets.redisExporterPassword}`],
      healthcheck: probe(a.redisExporter.port, "/health"),
    });
    mysqldExporterTargets(a).forEach(({ exporter: address, server }, i) => {
      exporter(mysqldExporterName(i), {
        image: args.images.mysqldExporter,
        command: [`--config.my-cnf=${PATHS.exporterMyCnf}`, `--web.listen-address=0.0.0.0:${address.port}`],
        uploads: [
          {
            file: PATHS.exporterMyCnf,
            content: args.secretTopology.apply((s) => renderExporterMyCnf(s, server)),
          },
        ],
        healthcheck: probe(address.port, "/metrics"),
      });
    });
    this.registerOutputs({});
  }
}
