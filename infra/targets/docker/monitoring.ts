import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { RuleFile } from "../../../monitoring/rule-files";
import { renderAlertmanagerYml, renderPrometheusYml } from "../../render";
import type { DeployConfig } from "../../deployment";
import { type Addresses, type Topology, NAMES } from "../../topology";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { Exporters, type ExportersArgs } from "./exporters";

/** prometheus.yml on Docker: scrape targets by container name, rule files where they are mounted. */
export function dockerPrometheusYml(t: Topology, a: Addresses, rules: RuleFile[]): string {
  return renderPrometheusYml(t, a, { ruleFiles: rules.map((r) => `${PATHS.prometheusRules}/${r.name}`) });
}

/** Port publishing of an admin UI: none unless the stack config sets adminPort. */
function adminPorts(cfg: Pick<DeployConfig, "adminPort" | "adminBindHost">, internal: number, offset: number) {
  if (cfg.adminPort === undefined) return {};
  return { ports: [{ internal, external: cfg.adminPort + offset, ip: cfg.adminBindHost ?? "127.0.0.1" }] };
}

/** What Monitoring reads: the exporters' inputs, the admin port settings, the two UIs' images and the rule files. */
export interface MonitoringArgs extends Omit<ExportersArgs, "cfg" | "images"> {
  cfg: ExportersArgs["cfg"] & Pick<DeployConfig, "adminPort" | "adminBindHost">;
  images: ExportersArgs["images"] & Pick<DockerContext["images"], "prometheus" | "alertmanager">;
  /** Every rule file Prometheus loads. */
  rules: RuleFile[];
}

/** Prometheus (rendered config, every rule file), Alertmanager and the exporters. */
export class Monitoring extends pulumi.ComponentResource {
  /** The Prometheus container: the autoscaler, which queries it, starts after it. */
  readonly prometheus: pulumi.Resource;
  /** The Alertmanager container: Prometheus starts after it. */
  readonly alertmanager: pulumi.Resource;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:Monitoring", name, {}, opts);
    const t = args.cfg.topology;
    const a = args.addresses;
    const rules = args.rules;
    const volume = (v: string) => new docker.Volume(`${name}-${v}-data`, { name: `${v}-data` }, { parent: this });
    const ui = (port: number, readyPath: string) => httpHealthcheck(port, readyPath, 20);
    this.alertmanager = new docker.Container(
      `${name}-alertmanager`,
      {
        name: NAMES.alertmanager,
        image: args.images.alertmanager,
        command: [
          `--config.file=${PATHS.alertmanagerYml}`,
          `--storage.path=${PATHS.alertmanagerData}`,
          `--web.listen-address=0.0.0.0:${a.alertmanager.port}`,
          "--cluster.listen-address=", // a single instance: no gossip port
        ],
        uploads: [{ file: PATHS.alertmanagerYml, content: renderAlertmanagerYml(t, args.addresses) }],
        volumes: [{ volumeName: volume("alertmanager").name, containerPath: PATHS.alertmanagerData }],
        networksAdvanced: onNetwork(args.network, NAMES.alertmanager),
        healthcheck: ui(a.alertmanager.port, "/-/ready"),
        ...adminPorts(args.cfg, a.alertmanager.port, 1),
        ...limits("alertmanager", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.prometheus = new docker.Container(
      `${name}-prometheus`,
      {
        name: NAMES.prometheus,
        image: args.images.prometheus,
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
        networksAdvanced: onNetwork(args.network, NAMES.prometheus),
        healthcheck: ui(a.prometheus.port, "/-/ready"),
        ...adminPorts(args.cfg, a.prometheus.port, 0),
        ...limits("prometheus", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: [this.alertmanager] },
    );
    new Exporters(`${name}-exporters`, args, { parent: this });
    this.registerOutputs({ prometheus: this.prometheus, alertmanager: this.alertmanager });
  }
}
