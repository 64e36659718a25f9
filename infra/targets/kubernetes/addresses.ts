import {
  NAMES,
  apiSlots,
  mysqlReplicaName,
  mysqldExporterName,
  placeAddresses,
  workerKindName,
  WORKER_KINDS,
  WORKER_PORT_BLOCK,
  type Addresses,
  type HostPort,
  type Topology,
  type WorkerKind,
} from "../../topology";

/** Kubernetes object names beyond the process names (names.ts) they are built from. */
export const K8S_NAMES = {
  /** The RabbitMQ nodes' headless Service: stable pod DNS names, and the peers' discovery. */
  rabbitmqNodes: "rabbitmq-nodes",
} as const;

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

/**
 * Addresses on Kubernetes: Service DNS names for single servers, pod DNS for Redis nodes (masters
 * first), RabbitMQ nodes and workers, one Service per API slot. Ports stay the topology's, so the
 * rendered files differ from the local stack's only in host names (and where pods of one template
 * must share a port).
 */
export function kubernetesAddresses(t: Topology, dns: ClusterDns): Addresses {
  const svc = (name: string, port: number): HostPort => ({ host: serviceHost(name, dns), port });
  return placeAddresses(t, {
    apiSlots: apiSlots(t),
    rabbitmqNodes: t.rabbitmq.nodes,
    // No autoscaler on Kubernetes: KEDA scales the API.
    autoscaler: false,
    at: ({ field, index, kind, port, sharedPort }) => {
      switch (field) {
        case "api":
          return svc(apiSlotName(index), sharedPort);
        case "workers":
          // Pods of one template share the port.
          return { host: podHost(`${workerKindName(kind!)}-${index}`, workerKindName(kind!), dns), port: sharedPort };
        case "redis": {
          // Every shard's StatefulSet names the one headless Service "redis", so its pods resolve under it.
          const { shard, ordinal } = redisPod(t, index);
          return { host: podHost(`${redisShardName(shard)}-${ordinal}`, NAMES.redis, dns), port: sharedPort };
        }
        case "mysqlReplicas":
          return svc(mysqlReplicaName(index + 1), port);
        case "mysqldExporters":
          return svc(mysqldExporterName(index), port);
        case "rabbitmq":
        case "rabbitmqManagement":
        case "rabbitmqPrometheus":
          return svc(NAMES.rabbitmq, port);
        case "rabbitmqNodeMetrics":
          return { host: podHost(`${NAMES.rabbitmq}-${index}`, K8S_NAMES.rabbitmqNodes, dns), port };
        case "nginxStatus":
          // Scraped by the exporter beside nginx in the same pod, so never leaves the pod.
          return { host: "127.0.0.1", port };
        case "nodeExporter":
          // In its own namespace: its host mounts pass no Pod Security level but "privileged" (node-exporter.ts).
          return { host: serviceHost(NAMES.nodeExporter, { ...dns, namespace: hostNamespace(dns.namespace) }), port };
        default:
          return svc(NAMES[field], port);
      }
    },
  });
}
