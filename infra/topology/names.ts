import type { Topology, WorkerKind } from "./schema";

/**
 * The name of every process of a stack — the one place they are spelled. The same name is the local
 * stack's process (its log, its data folder, what its control socket starts and stops), the Docker
 * container (and its DNS name on the private network), and what runbooks, chaos and alerts call the
 * process on every target; Kubernetes builds its object names from these (kubernetes/addresses.ts).
 */
export const NAMES = {
  nginx: "nginx",
  nginxExporter: "nginx-exporter",
  api: "api",
  tracker: "tracker",
  mysqlPrimary: "mysql-primary",
  redis: "redis",
  rabbitmq: "rabbitmq",
  bucket: "bucket",
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  nodeExporter: "node-exporter",
  redisExporter: "redis-exporter",
  autoscaler: "autoscaler",
  backups: "backups",
  runbooks: "runbooks",
} as const;

/** API slot `i` (0-based): `api-1`, `api-2`, … */
export const apiName = (i: number) => `${NAMES.api}-${i + 1}`;
/** The i-th (1-based) MariaDB replica: `mysql-replica-1`, … */
export const mysqlReplicaName = (i: number) => `mysql-replica-${i}`;
/** Every MariaDB server of the topology, the primary first. */
export const mysqlServerNames = (t: Topology) => [
  NAMES.mysqlPrimary,
  ...Array.from({ length: t.mysql.replicas }, (_, i) => mysqlReplicaName(i + 1)),
];
/** The mysqld exporter of server `i` (0 = the primary, then replicas 1..N). */
export const mysqldExporterName = (i: number) => `mysqld-exporter-${i === 0 ? "primary" : `replica-${i}`}`;
/** Redis Cluster node `i` (0-based, in address order: the masters first): `redis-1`, … */
export const redisName = (i: number) => `${NAMES.redis}-${i + 1}`;
/**
 * RabbitMQ node `i` (0-based): node 0 keeps the single node's name, so a deployment grown from one
 * node keeps its node name and with it its data directory.
 */
export const rabbitmqName = (i: number) => (i === 0 ? NAMES.rabbitmq : `${NAMES.rabbitmq}-${i + 1}`);
/** One worker kind's processes together: `worker-orders`, `worker-red-packet-grabs` (a Kubernetes StatefulSet). */
export const workerKindName = (kind: WorkerKind) => `worker-${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/** Process `i` (0-based) of one worker kind: `worker-orders-1`, … */
export const workerName = (kind: WorkerKind, i: number) => `${workerKindName(kind)}-${i + 1}`;

/**
 * The services' entry point (services/src/main/NAME) each worker kind runs — on every target: the
 * local stack's child process, the Docker container's and the Kubernetes pod's command.
 */
export const WORKER_ENTRY_POINTS: Record<WorkerKind, string> = {
  orders: "orders-worker",
  redPacketGrabs: "red-packet-worker",
};

/**
 * API slots the deployed targets address: enough for the autoscaler's maximum, so a replica it adds
 * is already in nginx's upstream and Prometheus's targets. (The local stack addresses the replicas it runs.)
 */
export function apiSlots(t: Topology): number {
  return Math.max(t.api.replicas, t.autoscaling.maxReplicas);
}
