import { stringify } from "yaml";
import {
  apiName,
  hostPort,
  mysqlReplicaName,
  NAMES,
  WORKER_KINDS,
  type Addresses,
  type HostPort,
  type Topology,
} from "../topology";

/** Target-specific inputs to the Prometheus renderer. */
export interface PrometheusOptions {
  /** Rule files as the Prometheus process sees them (absolute, or relative to prometheus.yml). */
  ruleFiles: string[];
}

interface StaticConfig {
  targets: string[];
  labels?: Record<string, string>;
}

const seconds = (n: number) => `${n}s`;
const only = (a: HostPort): StaticConfig[] => [{ targets: [hostPort(a)] }];
const job = (name: string, static_configs: StaticConfig[], extra: object = {}) => ({
  job_name: name,
  ...extra,
  static_configs,
});

// redis_exporter's multi-target pattern: one exporter scrapes every node it is told to via ?target=.
function redisJob(a: Addresses) {
  return job("redis", [{ targets: a.redis.map((node) => `redis://${hostPort(node)}`) }], {
    metrics_path: "/scrape",
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: hostPort(a.redisExporter) },
    ],
  });
}

// Primary first, then replicas, matching Addresses.mysqldExporters; the labels let rules tell them apart.
function mysqldTargets(a: Addresses): StaticConfig[] {
  return a.mysqldExporters.map((exporter, i) => ({
    targets: [hostPort(exporter)],
    labels:
      i === 0
        ? { role: "primary", mysql_instance: NAMES.mysqlPrimary }
        : { role: "replica", mysql_instance: mysqlReplicaName(i) },
  }));
}

/** Render prometheus.yml: scrape jobs for every component in the addresses, rules and the Alertmanager. */
export function renderPrometheusYml(t: Topology, a: Addresses, opts: PrometheusOptions): string {
  const config = {
    global: {
      scrape_interval: seconds(t.monitoring.scrapeIntervalSeconds),
      evaluation_interval: seconds(t.monitoring.evaluationIntervalSeconds),
    },
    rule_files: opts.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: only(a.alertmanager) }] },
    scrape_configs: [
      job("prometheus", only(a.prometheus)),
      job("alertmanager", only(a.alertmanager)),
      job(
        "api",
        a.api.map((replica, i) => ({ targets: [hostPort(replica)], labels: { replica: apiName(i) } })),
      ),
      job("tracker", only(a.tracker)),
      job(
        "workers",
        WORKER_KINDS.flatMap((kind) =>
          a.workers[kind].map((w, i) => ({
            targets: [hostPort(w)],
            labels: { queue: kind, worker: `${kind}-${i + 1}` },
          })),
        ),
      ),
      job("nginx", only(a.nginxExporter)),
      job("node", only(a.nodeExporter)),
      job("mysqld", mysqldTargets(a)),
      redisJob(a),
      job("redis-exporter", only(a.redisExporter)),
      // Every node: each reports its own memory, alarms and connections, and the queues it leads.
      job("rabbitmq", [{ targets: a.rabbitmqNodeMetrics.map(hostPort) }], { metrics_path: "/metrics" }),
      // Per-queue depth, unacked and consumers (the aggregated endpoint above has no queue label).
      job("rabbitmq-queues", [{ targets: a.rabbitmqNodeMetrics.map(hostPort) }], {
        metrics_path: "/metrics/detailed",
        params: { family: ["queue_coarse_metrics", "queue_consumer_count"] },
      }),
      ...(a.backups ? [job("backups", only(a.backups))] : []),
      // Its thresholds (floodgate_autoscaler_threshold) are what ApiScaleOut / ApiScaleIn compare with.
      ...(a.autoscaler ? [job("autoscaler", only(a.autoscaler))] : []),
    ],
  };
  return `# Rendered by floodgate from the topology; edit the topology, not this file.\n${stringify(config, { lineWidth: 0 })}`;
}
