import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderExporterMyCnf } from "../render";
import { hostPort } from "../topology";
import { mysqldExporterName, NAMES } from "./addresses";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
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
    const wget = (port: number, p: string) =>
      healthcheck(`wget -q -O /dev/null http://127.0.0.1:${port}${p} || exit 1`);
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
      healthcheck: wget(a.nodeExporter.port, "/metrics"),
    });
    exporter(
      NAMES.nginxExporter,
      {
        image: ctx.images.nginxExporter,
        command: [
          `--nginx.scrape-uri=http://${hostPort(a.nginxStatus)}/stub_status`,
          `--web.listen-address=0.0.0.0:${a.nginxExporter.port}`,
        ],
        // The image has no shell or HTTP client: the check proves the binary runs; Prometheus's `up` covers serving.
        healthcheck: { tests: ["CMD", "/usr/bin/nginx-prometheus-exporter", "--version"], interval: "30s", retries: 3 },
      },
      [nginx],
    );
    exporter(NAMES.redisExporter, {
      image: ctx.images.redisExporter,
      envs: [
        `REDIS_ADDR=redis://${hostPort(a.redis[0])}`,
        "REDIS_USER=exporter",
        pulumi.interpolate`REDIS_PASSWORD=${ctx.cfg.secrets.redisExporterPassword}`,
        `REDIS_EXPORTER_WEB_LISTEN_ADDRESS=0.0.0.0:${a.redisExporter.port}`,
      ],
      healthcheck: wget(a.redisExporter.port, "/health"),
    });
    const mysqlServers = [a.mysqlPrimary, ...a.mysqlReplicas];
    a.mysqldExporters.forEach((address, i) => {
      exporter(mysqldExporterName(i), {
        image: ctx.images.mysqldExporter,
        command: [`--config.my-cnf=${PATHS.exporterMyCnf}`, `--web.listen-address=0.0.0.0:${address.port}`],
        uploads: [
          {
            file: PATHS.exporterMyCnf,
            content: ctx.secretTopology.apply((s) => renderExporterMyCnf(s, mysqlServers[i])),
          },
        ],
        healthcheck: wget(address.port, "/"),
      });
    });
    this.registerOutputs({});
  }
}
