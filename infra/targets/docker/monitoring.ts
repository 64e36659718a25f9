import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { RuleFile } from "../../../monitoring/rule-files";
import { renderAlertmanagerYml, renderPrometheusYml } from "../../render";
import { hostPort, type Addresses, type Topology, NAMES } from "../../topology";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { Exporters } from "./exporters";

/** prometheus.yml on Docker: scrape targets by container name, rule files where they are mounted. */
export function dockerPrometheusYml(t: Topology, a: Addresses, rules: RuleFile[]): string {
  return renderPrometheusYml(t, a, { ruleFiles: rules.map((r) => `${PATHS.prometheusRules}/${r.name}`) });
}

/** Port publishing of an admin UI: none unless the stack config sets adminPort. */
function adminPorts(ctx: DockerContext, internal: number, offset: number) {
  if (ctx.cfg.adminPort === undefined) return {};
  return { ports: [{ internal, external: ctx.cfg.adminPort + offset, ip: ctx.cfg.adminBindHost ?? "127.0.0.1" }] };
}

/** Prometheus (rendered config, every rule file), Alertmanager and the exporters. */
export class Monitoring extends pulumi.ComponentResource {
  /** The Prometheus container. */
  readonly prometheus: docker.Container;
  /** The Alertmanager container. */
  readonly alertmanager: docker.Container;

  /** `nginx`: its container, which the nginx exporter waits for. */
  constructor(
    name: string,
    ctx: DockerContext,
    rules: RuleFile[],
    nginx: pulumi.Input<pulumi.Resource>,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("floodgate:docker:Monitoring", name, {}, opts);
    const t = ctx.cfg.topology;
    const a = ctx.addresses;
    const volume = (v: string) => new docker.Volume(`${name}-${v}-data`, { name: `${v}-data` }, { parent: this });
    const ui = (port: number, readyPath: string) => httpHealthcheck(port, readyPath, 20);
    this.alertmanager = new docker.Container(
      `${name}-alertmanager`,
      {
        name: NAMES.alertmanager,
        image: ctx.images.alertmanager,
        command: [
          `--config.file=${PATHS.alertmanagerYml}`,
          `--storage.path=${PATHS.alertmanagerData}`,
          `--web.listen-address=0.0.0.0:${a.alertmanager.port}`,
          "--cluster.listen-address=", // a single instance: no gossip port
        ],
        uploads: [{ file: PATHS.alertmanagerYml, content: renderAlertmanagerYml(t, ctx.addresses) }],
        volumes: [{ volumeName: volume("alertmanager").name, containerPath: PATHS.alertmanagerData }],
        networksAdvanced: onNetwork(ctx.network, NAMES.alertmanager),
        healthcheck: ui(a.alertmanager.port, "/-/ready"),
        ...adminPorts(ctx, a.alertmanager.port, 1),
        ...limits("alertmanager", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.prometheus = new docker.Container(
      `${name}-prometheus`,
      {
        name: NAMES.prometheus,
        image: ctx.images.prometheus,
        command: [
          `--config.file=${PATHS.prometheusYml}`,
          `--storage.tsdb.path=${PATHS.prometheusData}`,
          `--storage.tsdb.retention.time=${t.monitoring.retentionHours}h`,
          `--web.listen-address=0.0.0.0:${a.prometheus.port}`,
          "--web.enable-lifecycle",
        ],
        uploads: [
          { file: PATHS.prometheusYml, content: dockerPrometheusYml(t, a, rules) },
          ...rules.map((r) => ({ file: `${PATHS.prometheusRules}/${r.name}`, content: r.content })),
        ],
        volumes: [{ volumeName: volume("prometheus").name, containerPath: PATHS.prometheusData }],
        networksAdvanced: onNetwork(ctx.network, NAMES.prometheus),
        healthcheck: ui(a.prometheus.port, "/-/ready"),
        ...adminPorts(ctx, a.prometheus.port, 0),
        ...limits("prometheus", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: [this.alertmanager] },
    );
    new Exporters(`${name}-exporters`, ctx, nginx, { parent: this });
    this.registerOutputs({ prometheus: hostPort(a.prometheus), alertmanager: hostPort(a.alertmanager) });
  }
}
