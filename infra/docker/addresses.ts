import {
  WORKER_KINDS,
  WORKER_PORT_BLOCK,
  redisNodeCount,
  type Addresses,
  type HostPort,
  type Topology,
  type WorkerKind,
} from "../topology";

/** The subnet used when the stack config sets none. */
export const DEFAULT_SUBNET = "172.28.0.0/16";

/** Container names (also their DNS names on the private network) every component and address agree on. */
export const NAMES = {
  nginx: "nginx",
  nginxExporter: "nginx-exporter",
  tracker: "tracker",
  mysqlPrimary: "mysql-primary",
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

/** Container name of API slot `i` (0-based). */
export const apiName = (i: number) => `api-${i + 1}`;
/** Container name of the i-th (1-based) MariaDB replica. */
export const mysqlReplicaName = (i: number) => `mysql-replica-${i}`;
/** Container name of the mysqld exporter for server `i` (0 = primary, then replicas 1..N). */
export const mysqldExporterName = (i: number) => `mysqld-exporter-${i === 0 ? "primary" : `replica-${i}`}`;
/**
 * Container (and host) name of RabbitMQ node `i` (0-based): node 0 keeps the single node's name, so
 * a deployment grown from one node keeps its node name and with it its data directory.
 */
export const rabbitmqName = (i: number) => (i === 0 ? NAMES.rabbitmq : `${NAMES.rabbitmq}-${i + 1}`);
/**
 * The network alias every RabbitMQ node of a multi-node cluster also answers to: Docker's DNS gives
 * the addresses of the running ones, so a client reconnecting after a node's loss finds another.
 */
export const RABBITMQ_CLUSTER_ALIAS = "rabbitmq-cluster";
/** Where AMQP and management clients reach RabbitMQ: the one node, or any node of a cluster. */
export const rabbitmqClientHost = (t: Topology) => (t.rabbitmq.nodes === 1 ? NAMES.rabbitmq : RABBITMQ_CLUSTER_ALIAS);
/** Container name of Redis node `i` (0-based). */
export const redisName = (i: number) => `redis-${i + 1}`;
/** Container name of process `i` (0-based) of one worker kind. */
export const workerName = (kind: WorkerKind, i: number) =>
  `worker-${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-${i + 1}`;

/** API slots: enough for the autoscaler's maximum, so a replica it starts is already in nginx's upstream. */
export function apiSlots(t: Topology): number {
  return Math.max(t.api.replicas, t.autoscaling.maxReplicas);
}

/** The /16's first two octets ("172.28"), validated. */
function prefix16(subnet: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(subnet);
  if (!m) throw new Error(`docker subnet ${JSON.stringify(subnet)}: expected a /16 such as ${DEFAULT_SUBNET}`);
  return `${m[1]}.${m[2]}`;
}

/** Docker assigns dynamic addresses only from this range, so the fixed ones below never collide. */
export function dynamicRange(subnet: string): string {
  return `${prefix16(subnet)}.1.0/24`;
}

/** Fixed IPv4 of API slot `i`: nginx resolves upstreams once at start, and a stopped slot has no DNS name. */
export function apiIp(subnet: string, i: number): string {
  return `${prefix16(subnet)}.10.${i + 1}`;
}

/** Fixed IPv4 of Redis node `i`: a cluster node's identity (nodes.conf) survives a container re-create. */
export function redisIp(subnet: string, i: number): string {
  return `${prefix16(subnet)}.20.${i + 1}`;
}

/** MariaDB host pattern matching every container on the private network (users are granted by IP). */
export function mysqlClientHost(subnet: string): string {
  return `${prefix16(subnet)}.0.0/255.255.0.0`;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Addresses on one Docker host: every container on the private network under its name (fixed IPs
 * for API slots and Redis nodes), each on its topology port, so rendered files differ from the
 * local stack's only in hosts.
 */
export function dockerAddresses(t: Topology, subnet = DEFAULT_SUBNET): Addresses {
  const at = (host: string, port: number): HostPort => ({ host, port });
  const m = t.monitoring.exporterPorts;
  return {
    nginx: at(NAMES.nginx, t.nginx.port),
    nginxStatus: at(NAMES.nginx, t.nginx.statusPort),
    api: range(apiSlots(t)).map((i) => at(apiIp(subnet, i), t.api.basePort)),
    tracker: at(NAMES.tracker, t.tracker.port),
    autoscaler: at(NAMES.autoscaler, t.autoscaling.port),
    backups: at(NAMES.backups, t.backups.port),
    workers: Object.fromEntries(
      WORKER_KINDS.map((kind, k) => [
        kind,
        range(t.workers[kind].processes).map((i) =>
          at(workerName(kind, i), t.workers.metricsBasePort + k * WORKER_PORT_BLOCK + i),
        ),
      ]),
    ) as Record<WorkerKind, HostPort[]>,
    mysqlPrimary: at(NAMES.mysqlPrimary, t.mysql.primaryPort),
    mysqlReplicas: range(t.mysql.replicas).map((i) => at(mysqlReplicaName(i + 1), t.mysql.replicaBasePort + i)),
    redis: range(redisNodeCount(t)).map((i) => at(redisIp(subnet, i), t.redis.basePort + i)),
    rabbitmq: at(rabbitmqClientHost(t), t.rabbitmq.port),
    rabbitmqManagement: at(rabbitmqClientHost(t), t.rabbitmq.managementPort),
    rabbitmqPrometheus: at(NAMES.rabbitmq, t.rabbitmq.prometheusPort),
    rabbitmqNodeMetrics: range(t.rabbitmq.nodes).map((i) => at(rabbitmqName(i), t.rabbitmq.prometheusPort)),
    prometheus: at(NAMES.prometheus, t.monitoring.prometheusPort),
    alertmanager: at(NAMES.alertmanager, t.monitoring.alertmanagerPort),
    nodeExporter: at(NAMES.nodeExporter, m.node),
    nginxExporter: at(NAMES.nginxExporter, m.nginx),
    redisExporter: at(NAMES.redisExporter, m.redis),
    mysqldExporters: range(1 + t.mysql.replicas).map((i) => at(mysqldExporterName(i), m.mysqldBase + i)),
  };
}
