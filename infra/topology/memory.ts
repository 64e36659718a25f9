import type { Topology } from "./schema";

/**
 * Every kind of container or pod a target runs. Each has one memory limit, the same on every
 * target; Docker runs all but `sidecar`, Kubernetes all but `autoscaler` and `runbooks`.
 */
export const MEMORY_ROLES = [
  "nginx",
  "api",
  "worker",
  "tracker",
  "job",
  "backups",
  "autoscaler",
  "runbooks",
  "mysql",
  "redis",
  "rabbitmq",
  "bucket",
  "prometheus",
  "alertmanager",
  "exporter",
  "sidecar",
] as const;
export type MemoryRole = (typeof MEMORY_ROLES)[number];

/** Bytes in a MiB: container limits (Docker's `memory`, Kubernetes' `Mi`) are in MiB. */
export const MIB = 2 ** 20;

/**
 * The share of RabbitMQ's limit at which its memory alarm blocks publishers. The alarm is a point
 * to throttle, not a cap: the Erlang VM keeps allocating past it (a garbage collection can, at
 * worst, briefly double a process heap; deliveries, acks and the management plugin's stats go on),
 * and the containers have no swap. The 0.4 left over is that room: 0.5 would cover even the
 * doubling RabbitMQ's older docs warn of, at the price of throttling earlier; 0.6 is the share
 * RabbitMQ 4.x itself defaults to, of the RAM it detects. In a container that may be the host's
 * (RabbitMQ's docs advise an absolute watermark there), hence absolute here, from the limit.
 */
export const RABBITMQ_WATERMARK_SHARE = 0.6;

/**
 * MariaDB beyond its buffer pool: InnoDB allocates about a tenth more than the pool for the pool's
 * own control structures; the server itself (Aria's and MyISAM's caches, 128 MiB each by default,
 * the log buffer, performance_schema, which is on) takes a fixed part; every connection its thread
 * stack and buffers, budgeted at 1 MiB each up to max_connections (sorts and joins take more,
 * idle ones less).
 */
const MARIADB_POOL_OVERHEAD_PERCENT = 10;
const MARIADB_SERVER_MB = 384;
const MARIADB_PER_CONNECTION_MB = 1;

/**
 * Redis beyond maxmemory: an AOF rewrite or a full sync forks, and the child's copy-on-write pages
 * count against the same limit, so a busy node can hold the data set twice; the rest covers the
 * server, replication and client buffers (which maxmemory does not count) and fragmentation.
 */
const REDIS_FORK_FACTOR = 2;
const REDIS_BUFFERS_MB = 128;

/** Limits of the roles whose software sizes itself within what it is given, or needs little. */
const FIXED_LIMIT_MB: Record<Exclude<MemoryRole, "mysql" | "redis" | "rabbitmq">, number> = {
  // Node (24, through libuv, on cgroup v1 and v2) sizes V8's heap from the limit it runs under,
  // about half of it, leaving the rest to buffers and native memory: no --max-old-space-size.
  api: 1024,
  worker: 512,
  tracker: 512,
  autoscaler: 256,
  // Migrations, cluster forming, bucket set-up, runbook steps: short and small.
  job: 512,
  // Streams dumps, and runs the restore drill's scratch MariaDB (a 64 MiB buffer pool) beside it.
  backups: 1024,
  // Idle until on-call runs one; backup-now and restore stream dumps as the backups do.
  runbooks: 512,
  nginx: 512,
  bucket: 512,
  prometheus: 2048,
  alertmanager: 256,
  exporter: 128,
  sidecar: 128,
};

/** Up to a whole 64 MiB, so limits read as round numbers. */
const roundUp = (mb: number) => Math.ceil(mb / 64) * 64;

/** MariaDB's limit: the topology's buffer pool and connections, with what the server needs beside them. */
function mysqlLimitMb(t: Topology): number {
  const { bufferPoolMb, maxConnections } = t.mysql;
  // In whole numbers: 1000 · 1.1 is a hair above 1100 in floating point.
  const poolMb = Math.ceil((bufferPoolMb * (100 + MARIADB_POOL_OVERHEAD_PERCENT)) / 100);
  return roundUp(poolMb + MARIADB_SERVER_MB + maxConnections * MARIADB_PER_CONNECTION_MB);
}

/**
 * The memory limit (MiB) of a role's container or pod, on every target. MariaDB's and Redis's
 * limits grow with the memory the topology gives them (bufferPoolMb, maxConnections, maxMemoryMb),
 * so what they are told to use always fits; RabbitMQ's is the topology's own and its watermark
 * follows from it (rabbitmqWatermarkBytes).
 */
export function memoryLimitMb(t: Topology, role: MemoryRole): number {
  switch (role) {
    case "mysql":
      return mysqlLimitMb(t);
    case "redis":
      return roundUp(t.redis.maxMemoryMb * REDIS_FORK_FACTOR + REDIS_BUFFERS_MB);
    case "rabbitmq":
      return t.rabbitmq.memoryLimitMb;
    default:
      return FIXED_LIMIT_MB[role];
  }
}

/**
 * RabbitMQ's vm_memory_high_watermark in bytes: a share of its limit. The local stack, which runs
 * the broker in no container, renders the same value, so it throttles where production does.
 */
export function rabbitmqWatermarkBytes(t: Topology): number {
  return Math.floor(memoryLimitMb(t, "rabbitmq") * MIB * RABBITMQ_WATERMARK_SHARE);
}
