import {
  WORKER_KINDS,
  WORKER_PORT_BLOCK,
  redisNodeCount,
  type Addresses,
  type HostPort,
  type Topology,
  type WorkerKind,
} from "../topology";

/** Kubernetes object names every component and address agree on (Services, StatefulSets, pods). */
export const NAMES = {
  nginx: "nginx",
  nginxExporter: "nginx-exporter",
  api: "api",
  tracker: "tracker",
  mysqlPrimary: "mysql-primary",
  redis: "redis",
  rabbitmq: "rabbitmq",
  /** The RabbitMQ nodes' headless Service: stable pod DNS names, and the peers' discovery. */
  rabbitmqNodes: "rabbitmq-nodes",
  bucket: "bucket",
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  nodeExporter: "node-exporter",
  redisExporter: "redis-exporter",
} as const;

/** Name of the i-th (1-based) MariaDB replica's StatefulSet and Service. */
export const mysqlReplicaName = (i: number) => `mysql-replica-${i}`;
/** Name of the mysqld exporter for server `i` (0 = primary, then replicas 1..N). */
export const mysqldExporterName = (i: number) => `mysqld-exporter-${i === 0 ? "primary" : `replica-${i}`}`;
/** Name of the StatefulSet (and headless Service) running one worker kind. */
export const workerName = (kind: WorkerKind) => `worker-${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/** Name of the per-slot Service in front of API pod `i` (same as the pod's name). */
export const apiSlotName = (i: number) => `${NAMES.api}-${i}`;

/** Name of Redis shard `s`'s StatefulSet (a master and its own replicas), and of its availability group. */
export const redisShardName = (s: number) => `${NAMES.redis}-shard-${s}`;

/**
 * Where Redis node `i` (0-based, in address order) runs: the first `masters` nodes are pod 0 of
 * each shard, node `masters + j` a further pod of shard `j % masters` — redisShards' order, so the
 * forming job makes each shard's pods one master and its own replicas.
 */
export function redisPod(t: Topology, i: number): { shard: number; ordinal: number } {
  const m = t.redis.masters;
  return i < m ? { shard: i, ordinal: 0 } : { shard: (i - m) % m, ordinal: 1 + Math.floor((i - m) / m) };
}

/**
 * API slots nginx and Prometheus know: enough for the autoscaler's maximum, so a replica the
 * autoscaler adds is already in the rendered upstream.
 */
export function apiSlots(t: Topology): number {
  return Math.max(t.api.replicas, t.autoscaling.maxReplicas);
}

/** Metrics port of every process of one worker kind (the first port of its block; pods share it). */
export function workerMetricsPort(t: Topology, kind: WorkerKind): number {
  return t.workers.metricsBasePort + WORKER_KINDS.indexOf(kind) * WORKER_PORT_BLOCK;
}

/** DNS names inside one namespace of a cluster. */
export interface ClusterDns {
  namespace: string;
  /** The cluster's DNS domain; "cluster.local" unless the cluster was set up otherwise. */
  domain?: string;
}

/**
 * The namespace beside the deployment's that holds only the node exporter, whose reads of each
 * node's /proc and /sys no Pod Security level but "privileged" allows: the deployment's own
 * namespace then enforces "baseline" and warns on anything below "restricted".
 */
export function hostNamespace(namespace: string): string {
  return `${namespace}-host`;
}

/** The DNS name of a Service. */
export function serviceHost(service: string, dns: ClusterDns): string {
  return `${service}.${dns.namespace}.svc.${dns.domain ?? "cluster.local"}`;
}

/** The DNS name of a StatefulSet pod, through the StatefulSet's headless Service. */
export function podHost(pod: string, headlessService: string, dns: ClusterDns): string {
  return `${pod}.${serviceHost(headlessService, dns)}`;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Addresses on Kubernetes: Service DNS names for single servers, pod DNS for Redis nodes (masters
 * first) and workers, one Service per API slot. Ports stay the topology's, so the rendered files differ from
 * the local stack's only in host names (and where pods of one template must share a port).
 */
export function kubernetesAddresses(t: Topology, dns: ClusterDns): Addresses {
  const svc = (name: string, port: number): HostPort => ({ host: serviceHost(name, dns), port });
  const pod = (set: string, i: number, port: number): HostPort => ({ host: podHost(`${set}-${i}`, set, dns), port });
  const m = t.monitoring.exporterPorts;
  return {
    nginx: svc(NAMES.nginx, t.nginx.port),
    // Scraped by the exporter beside nginx in the same pod, so never leaves the pod.
    nginxStatus: { host: "127.0.0.1", port: t.nginx.statusPort },
    api: range(apiSlots(t)).map((i) => svc(apiSlotName(i), t.api.basePort)),
    tracker: svc(NAMES.tracker, t.tracker.port),
    // No autoscaler on Kubernetes: KEDA scales the API.
    backups: svc("backups", t.backups.port),
    workers: Object.fromEntries(
      WORKER_KINDS.map((kind) => [
        kind,
        range(t.workers[kind].processes).map((i) => pod(workerName(kind), i, workerMetricsPort(t, kind))),
      ]),
    ) as Record<WorkerKind, HostPort[]>,
    mysqlPrimary: svc(NAMES.mysqlPrimary, t.mysql.primaryPort),
    mysqlReplicas: range(t.mysql.replicas).map((i) => svc(mysqlReplicaName(i + 1), t.mysql.replicaBasePort + i)),
    // Every shard's StatefulSet names the one headless Service "redis", so its pods resolve under it.
    redis: range(redisNodeCount(t)).map((i) => {
      const { shard, ordinal } = redisPod(t, i);
      return { host: podHost(`${redisShardName(shard)}-${ordinal}`, NAMES.redis, dns), port: t.redis.basePort };
    }),
    rabbitmq: svc(NAMES.rabbitmq, t.rabbitmq.port),
    rabbitmqManagement: svc(NAMES.rabbitmq, t.rabbitmq.managementPort),
    rabbitmqPrometheus: svc(NAMES.rabbitmq, t.rabbitmq.prometheusPort),
    rabbitmqNodeMetrics: range(t.rabbitmq.nodes).map((i) => ({
      host: podHost(`${NAMES.rabbitmq}-${i}`, NAMES.rabbitmqNodes, dns),
      port: t.rabbitmq.prometheusPort,
    })),
    prometheus: svc(NAMES.prometheus, t.monitoring.prometheusPort),
    alertmanager: svc(NAMES.alertmanager, t.monitoring.alertmanagerPort),
    // In its own namespace: its host mounts pass no Pod Security level but "privileged" (node-exporter.ts).
    nodeExporter: {
      host: serviceHost(NAMES.nodeExporter, { ...dns, namespace: hostNamespace(dns.namespace) }),
      port: m.node,
    },
    nginxExporter: svc(NAMES.nginxExporter, m.nginx),
    redisExporter: svc(NAMES.redisExporter, m.redis),
    mysqldExporters: range(1 + t.mysql.replicas).map((i) => svc(mysqldExporterName(i), m.mysqldBase + i)),
  };
}
