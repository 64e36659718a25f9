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

/** The Addresses fields that hold one process each. */
type SingleField = {
  [F in keyof Addresses]-?: NonNullable<Addresses[F]> extends HostPort ? F : never;
}[keyof Addresses];
/** The Addresses fields that hold a list of processes (workers have one list per kind). */
type ListField = "api" | "mysqlReplicas" | "redis" | "rabbitmqNodeMetrics" | "mysqldExporters" | "workers";

/**
 * One process as the placement sees it: which address it is (`field`, and `index` in a list, `kind`
 * for workers), and its two candidate ports — `port`, its own port (distinct from every other
 * process's, as processes sharing one host need), and `sharedPort`, the port every process of its
 * list shares (for targets giving each process a host of its own).
 */
export interface PlacedProcess {
  field: SingleField | ListField;
  index: number;
  kind?: WorkerKind;
  port: number;
  sharedPort: number;
}

/**
 * How one target places the stack's processes: the one thing that differs between targets. The
 * processes, their count and their ports come from the topology (placeAddresses); a target says
 * only how many API slots and RabbitMQ nodes it addresses, whether it runs the autoscaler, and at
 * which host (and which of the two ports) each process is reached.
 */
export interface Placement {
  apiSlots: number;
  rabbitmqNodes: number;
  autoscaler: boolean;
  at(p: PlacedProcess): HostPort;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Where every component is reached on the target `place` describes. */
export function placeAddresses(t: Topology, place: Placement): Addresses {
  const one = (field: SingleField, port: number): HostPort => place.at({ field, index: 0, port, sharedPort: port });
  const list = (field: ListField, n: number, base: number, step = 1, kind?: WorkerKind): HostPort[] =>
    range(n).map((index) => place.at({ field, index, kind, port: base + index * step, sharedPort: base }));
  const m = t.monitoring.exporterPorts;
  return {
    nginx: one("nginx", t.nginx.port),
    nginxStatus: one("nginxStatus", t.nginx.statusPort),
    api: list("api", place.apiSlots, t.api.basePort),
    tracker: one("tracker", t.tracker.port),
    autoscaler: place.autoscaler ? one("autoscaler", t.autoscaling.port) : undefined,
    backups: one("backups", t.backups.port),
    workers: Object.fromEntries(
      WORKER_KINDS.map((kind, k) => [
        kind,
        list("workers", t.workers[kind].processes, t.workers.metricsBasePort + k * WORKER_PORT_BLOCK, 1, kind),
      ]),
    ) as Record<WorkerKind, HostPort[]>,
    mysqlPrimary: one("mysqlPrimary", t.mysql.primaryPort),
    mysqlReplicas: list("mysqlReplicas", t.mysql.replicas, t.mysql.replicaBasePort),
    redis: list("redis", redisNodeCount(t), t.redis.basePort),
    rabbitmq: one("rabbitmq", t.rabbitmq.port),
    rabbitmqManagement: one("rabbitmqManagement", t.rabbitmq.managementPort),
    rabbitmqPrometheus: one("rabbitmqPrometheus", t.rabbitmq.prometheusPort),
    // Every node serves its metrics on the one port: nodes never share a host.
    rabbitmqNodeMetrics: list("rabbitmqNodeMetrics", place.rabbitmqNodes, t.rabbitmq.prometheusPort, 0),
    prometheus: one("prometheus", t.monitoring.prometheusPort),
    alertmanager: one("alertmanager", t.monitoring.alertmanagerPort),
    nodeExporter: one("nodeExporter", m.node),
    nginxExporter: one("nginxExporter", m.nginx),
    redisExporter: one("redisExporter", m.redis),
    mysqldExporters: list("mysqldExporters", 1 + t.mysql.replicas, m.mysqldBase),
  };
}

/** Addresses of the local stack: every component on one host, each on its own topology port. */
export function localAddresses(t: Topology, host = "127.0.0.1"): Addresses {
  return placeAddresses(t, {
    apiSlots: t.api.replicas,
    // The local stack runs one node, whatever rabbitmq.nodes says.
    rabbitmqNodes: 1,
    autoscaler: t.autoscaling.enabled,
    at: ({ port }) => ({ host, port }),
  });
}

/** The address lists the topology never leaves empty (at least one API slot and RabbitMQ node, three Redis masters). */
type NonEmptyField = "api" | "redis" | "rabbitmqNodeMetrics" | "mysqldExporters";

/** The first address of a list the topology never leaves empty (the Redis node an exporter or tool starts from). */
export function firstAddress(a: Pick<Addresses, NonEmptyField>, field: NonEmptyField): HostPort {
  const first = a[field][0];
  if (!first) throw new Error(`the addresses hold no ${field}: every placement has at least one`);
  return first;
}

/** Each mysqld exporter with the MariaDB server it watches: the primary first, then the replicas. */
export function mysqldExporterTargets(
  a: Pick<Addresses, "mysqlPrimary" | "mysqlReplicas" | "mysqldExporters">,
): Array<{ exporter: HostPort; server: HostPort }> {
  const servers = [a.mysqlPrimary, ...a.mysqlReplicas];
  return a.mysqldExporters.map((exporter, i) => {
    const server = servers[i];
    if (!server) throw new Error(`${a.mysqldExporters.length} mysqld exporters for ${servers.length} MariaDB servers`);
    return { exporter, server };
  });
}

/** "host:port" form used in configs and environment variables. */
export function hostPort(a: HostPort): string {
  return `${a.host}:${a.port}`;
}
