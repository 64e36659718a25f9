import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderExporterMyCnf } from "../../render";
import { firstAddress, hostPort, mysqldExporterName, mysqldExporterTargets, NAMES } from "../../topology";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";

/** The exporters Prometheus scrapes: node, nginx, Redis (multi-target) and one mysqld exporter per server. */
export class Exporters extends pulumi.ComponentResource {
  /** `nginx`: its container; the nginx exporter starts after it (it exits when nginx does not answer at its start). */
  constructor(
    name: string,
    ctx: DockerContext,
    nginx: pulumi.Input<pulumi.Resource>,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("floodgate:docker:Exporters", name, {}, opts);
    const t = ctx.cfg.topology;
    const a = ctx.addresses;
    const probe = (port: number, p: string) => httpHealthcheck(port, p);
    const exporter = (
      container: string,
      args: Omit<docker.ContainerArgs, "name" | "networksAdvanced">,
      dependsOn: pulumi.Input<pulumi.Resource>[] = [],
    ) =>
      new docker.Container(
        `${name}-${container}`,
        {
          name: container,
          networksAdvanced: onNetwork(ctx.network, container),
          ...limits("exporter", t),
          ...LONG_RUNNING,
          ...args,
        },
        { parent: this, deleteBeforeReplace: true, dependsOn },
      );
    exporter(NAMES.nodeExporter, {
      image: ctx.images.nodeExporter,
      command: [`--web.listen-address=0.0.0.0:${a.nodeExporter.port}`, "--path.rootfs=/host"],
      // The host's own filesystems, read-only: node_exporter reports the machine, not the container.
      volumes: [{ hostPath: "/", containerPath: "/host", readOnly: true }],
      healthcheck: probe(a.nodeExporter.port, "/metrics"),
    });
    exporter(
      NAMES.nginxExporter,
      {
        image: ctx.images.nginxExporter,
        command: [
          `-nginx.scrape-uri=http://${hostPort(a.nginxStatus)}/stub_status`,
          `-web.listen-address=0.0.0.0:${a.nginxExporter.port}`,
        ],
        healthcheck: probe(a.nginxExporter.port, "/metrics"),
      },
      [nginx],
    );
    exporter(NAMES.redisExporter, {
      image: ctx.images.redisExporter,
      // The local stack's flags (Debian's exporter); the password only from the environment, never argv.
      command: [
        `-redis.addr=redis://${hostPort(firstAddress(a, "redis"))}`,
        "-redis.user=exporter",
        `-web.listen-address=0.0.0.0:${a.redisExporter.port}`,
      ],
      envs: [pulumi.interpolate`REDIS_PASSWORD=${ctx.cfg.secrets.redisExporterPassword}`],
      healthcheck: probe(a.redisExporter.port, "/health"),
    });
    mysqldExporterTargets(a).forEach(({ exporter: address, server }, i) => {
      exporter(mysqldExporterName(i), {
        image: ctx.images.mysqldExporter,
        command: [`--config.my-cnf=${PATHS.exporterMyCnf}`, `--web.listen-address=0.0.0.0:${address.port}`],
        uploads: [
          {
            file: PATHS.exporterMyCnf,
            content: ctx.secretTopology.apply((s) => renderExporterMyCnf(s, server)),
          },
        ],
        healthcheck: probe(address.port, "/metrics"),
      });
    });
    this.registerOutputs({});
  }
}
