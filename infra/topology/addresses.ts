import { WORKER_KINDS, WORKER_PORT_BLOCK, type Topology, type WorkerKind } from "./schema";

/** A host and port one component listens on or is reached at. */
export interface HostPort {
  host: string;
  port: number;
}

/** Where every component is reached: the one thing that differs between targets. */
export interface Addresses {
  nginx: HostPort;
  nginxStatus: HostPort;
  api: HostPort[];
  tracker: HostPort;
  /** The autoscaler (/health, /metrics, the Alertmanager webhook); absent where the platform scales (Kubernetes). */
  autoscaler?: HostPort;
  /** The long-running backup service (/health, /metrics, scraped by Prometheus). */
  backups?: HostPort;
  /** Metrics endpoints of the queue workers, per kind, one per process. */
  workers: Record<WorkerKind, HostPort[]>;
  mysqlPrimary: HostPort;
  mysqlReplicas: HostPort[];
  /** Cluster nodes; the first `masters` are the initial masters. */
  redis: HostPort[];
  /** Where AMQP clients connect: any node of the cluster (one name every running node answers to). */
  rabbitmq: HostPort;
  rabbitmqManagement: HostPort;
  /** The Prometheus port the nodes listen on (rabbitmqNodeMetrics has each node's endpoint). */
  rabbitmqPrometheus: HostPort;
  /** Each node's Prometheus endpoint: a node reports its own metrics and the queues it leads. */
  rabbitmqNodeMetrics: HostPort[];
  prometheus: HostPort;
  alertmanager: HostPort;
  nodeExporter: HostPort;
  nginxExporter: HostPort;
  redisExporter: HostPort;
  /** One mysqld exporter per MariaDB server: primary first, then replicas. */
  mysqldExporters: HostPort[];
}

/** Number of Redis Cluster nodes the topology describes. */
export function redisNodeCount(t: Topology): number {
  return t.redis.masters * (1 + t.redis.replicasPerMaster);
}

const range = (n: number, first: number) => Array.from({ length: n }, (_, i) => first + i);

/** Addresses of the local stack: every component on one host, each on its topology port. */
export function localAddresses(t: Topology, host = "127.0.0.1"): Addresses {
  const at = (port: number): HostPort => ({ host, port });
  return {
    nginx: at(t.nginx.port),
    nginxStatus: at(t.nginx.statusPort),
    api: range(t.api.replicas, t.api.basePort).map(at),
    tracker: at(t.tracker.port),
    autoscaler: t.autoscaling.enabled ? at(t.autoscaling.port) : undefined,
    backups: at(t.backups.port),
    workers: Object.fromEntries(
      WORKER_KINDS.map((kind, k) => [
        kind,
        range(t.workers[kind].processes, t.workers.metricsBasePort + k * WORKER_PORT_BLOCK).map(at),
      ]),
    ) as Record<WorkerKind, HostPort[]>,
    mysqlPrimary: at(t.mysql.primaryPort),
    mysqlReplicas: range(t.mysql.replicas, t.mysql.replicaBasePort).map(at),
    redis: range(redisNodeCount(t), t.redis.basePort).map(at),
    rabbitmq: at(t.rabbitmq.port),
    rabbitmqManagement: at(t.rabbitmq.managementPort),
    rabbitmqPrometheus: at(t.rabbitmq.prometheusPort),
    // The local stack runs one node, whatever rabbitmq.nodes says.
    rabbitmqNodeMetrics: [at(t.rabbitmq.prometheusPort)],
    prometheus: at(t.monitoring.prometheusPort),
    alertmanager: at(t.monitoring.alertmanagerPort),
    nodeExporter: at(t.monitoring.exporterPorts.node),
    nginxExporter: at(t.monitoring.exporterPorts.nginx),
    redisExporter: at(t.monitoring.exporterPorts.redis),
    mysqldExporters: range(1 + t.mysql.replicas, t.monitoring.exporterPorts.mysqldBase).map(at),
  };
}

/** "host:port" form used in configs and environment variables. */
export function hostPort(a: HostPort): string {
  return `${a.host}:${a.port}`;
}
