import { z } from "zod";
import { secret } from "./secret";

/** Metrics ports reserved per worker kind: worker i of kind k listens on metricsBasePort + k·block + i. */
export const WORKER_PORT_BLOCK = 20;

const port = z.number().int().min(1024, { error: "ports below 1024 need privileges" }).max(65535);
const count = (min: number, max: number) => z.number().int().min(min).max(max);

/** nginx: the only public entry; rate and connection limits protect the API. */
export const NginxSchema = z.object({
  port: port.default(8080),
  statusPort: port.default(8089),
  workerProcesses: count(1, 64).default(2),
  workerConnections: count(64, 65535).default(8192),
  rateLimitPerSecond: count(1, 1_000_000).default(20000),
  rateLimitBurst: count(0, 1_000_000).default(40000),
  // nginx refuses a limit_conn of 65536 or more.
  connectionsPerIp: count(1, 65_535).default(20000),
  clientMaxBodyKb: count(1, 102_400).default(64),
  proxyConnectTimeoutSeconds: count(1, 300).default(2),
  proxyReadTimeoutSeconds: count(1, 300).default(10),
  clientBodyTimeoutSeconds: count(1, 300).default(10),
  keepaliveConnections: count(1, 10_000).default(256),
  /** Idle upstream keep-alive lifetime; API replicas drain for longer than this on shutdown. */
  upstreamKeepaliveSeconds: count(1, 300).default(4),
});

/** The Koa API: N identical replicas behind nginx, one OS process each. */
export const ApiSchema = z.object({
  replicas: count(1, 64).default(2),
  basePort: port.default(8101),
  jwtSecret: secret(32).default("local-jwt-secret-change-me-0123456789abcdef"),
  tokenTtlSeconds: count(60, 86_400).default(900),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  /** The one administrator the stack seeds (idempotently) after migrations. */
  admin: z
    .object({
      username: z
        .string()
        .regex(/^[a-z0-9_]{3,32}$/)
        .default("admin"),
      password: secret().default("local-admin-password"),
    })
    .prefault({}),
  cache: z
    .object({
      l1TtlMs: count(100, 600_000).default(2000),
      l1MaxEntries: count(100, 10_000_000).default(50_000),
      l2TtlSeconds: count(1, 86_400).default(60),
      negativeTtlSeconds: count(1, 3600).default(5),
    })
    .prefault({}),
  /**
   * Serve the benchmark's naive baseline (`POST /naive/flash-sales/:id/purchases`: a row-locked
   * conditional UPDATE plus INSERT per request, no cache, no queue). Off everywhere but `npm run bench`.
   */
  naiveBaseline: z.boolean().default(false),
  rateLimits: z
    .object({
      perIpPerSecond: count(1, 1_000_000).default(2000),
      perUserPerSecond: count(1, 1_000_000).default(50),
      loginsPerMinutePerIp: count(1, 100_000).default(30),
      /** Sign-ups per client address: each costs a scrypt hash on libuv's small thread pool. */
      signupsPerMinutePerIp: count(1, 100_000).default(10),
    })
    .prefault({}),
});

/** The behaviour-tracking service: its own process, fed over RabbitMQ. */
export const TrackerSchema = z.object({
  port: port.default(8201),
});

const QueueWorkersSchema = z.object({
  processes: count(0, WORKER_PORT_BLOCK),
  concurrency: count(1, 1024),
});

/** The queue-worker kinds, in the order of their metrics port blocks. */
export const WORKER_KINDS = ["orders", "redPacketGrabs"] as const;
/** One worker kind. */
export type WorkerKind = (typeof WORKER_KINDS)[number];

/** Queue workers: processes and concurrency per queue (the tracker consumes "tracking" itself). */
export const WorkersSchema = z
  .object({
    orders: QueueWorkersSchema.default({ processes: 2, concurrency: 32 }),
    redPacketGrabs: QueueWorkersSchema.default({ processes: 2, concurrency: 16 }),
    tracking: QueueWorkersSchema.default({ processes: 1, concurrency: 64 }),
    metricsBasePort: port.default(8401),
  })
  .prefault({});

const MysqlUserSchema = (name: string, password: string) =>
  z
    .object({
      name: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,31}$/)
        .default(name),
      password: secret().default(password),
    })
    .prefault({});

/** MariaDB primary with GTID replicas; one least-privilege user per role. */
export const MysqlSchema = z.object({
  database: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,63}$/)
    .default("floodgate"),
  primaryPort: port.default(13306),
  replicas: count(1, 8).default(1),
  replicaBasePort: port.default(13307),
  bufferPoolMb: count(16, 1_048_576).default(256),
  maxConnections: count(10, 100_000).default(500),
  users: z
    .object({
      app: MysqlUserSchema("floodgate_app", "local-app-password"),
      migrator: MysqlUserSchema("floodgate_migrator", "local-migrator-password"),
      replication: MysqlUserSchema("floodgate_repl", "local-replication-password"),
      backup: MysqlUserSchema("floodgate_backup", "local-backup-password"),
      exporter: MysqlUserSchema("floodgate_exporter", "local-exporter-password"),
    })
    .prefault({}),
});

const RedisUserSchema = (password: string) => z.object({ password: secret().default(password) }).prefault({});

/** Redis Cluster: masters × (1 + replicasPerMaster) nodes; ACL users, default user off. */
export const RedisSchema = z.object({
  masters: count(3, 32).default(3),
  replicasPerMaster: count(0, 4).default(1),
  basePort: port.default(17001),
  clusterNodeTimeoutMs: count(500, 60_000).default(2000),
  maxMemoryMb: count(16, 1_048_576).default(256),
  users: z
    .object({
      app: RedisUserSchema("local-redis-app-password"),
      replication: RedisUserSchema("local-redis-replication-password"),
      admin: RedisUserSchema("local-redis-admin-password"),
      exporter: RedisUserSchema("local-redis-exporter-password"),
    })
    .prefault({}),
});

const QueueSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9._-]*$/),
  type: z.enum(["quorum", "classic"]).default("quorum"),
  deliveryLimit: count(1, 1000).default(5),
});

/** RabbitMQ: one vhost, an app user and a monitoring user, durable queues with dead-lettering. */
export const RabbitmqSchema = z.object({
  /**
   * Broker nodes in one cluster. Odd: with pause_minority an even cluster split in half pauses both
   * halves, and 2 or 4 nodes survive no more losses than 1 or 3. The local stack runs 1 whatever
   * this says (infra/targets/local); the Docker and Kubernetes targets run this many.
   */
  nodes: count(1, 9)
    .refine((n) => n % 2 === 1, { error: "an odd number of nodes (1, 3, 5…): a quorum needs a strict majority" })
    .default(1),
  port: port.default(15682),
  managementPort: port.default(15683),
  prometheusPort: port.default(15693),
  distPort: port.default(25682),
  epmdPort: port.default(14369),
  /**
   * The broker's container limit (MiB) on every target; its memory watermark is a share of it
   * (memory.ts), rendered on the local stack too. At least 512, so the watermark stays well
   * above what an idle node with its plugins holds.
   */
  memoryLimitMb: count(512, 1_048_576).default(2048),
  vhost: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/)
    .default("floodgate"),
  users: z
    .object({
      app: z
        .object({ name: z.string().default("floodgate_app"), password: secret().default("local-rabbit-app-password") })
        .prefault({}),
      admin: z
        .object({
          name: z.string().default("floodgate_admin"),
          password: secret().default("local-rabbit-admin-password"),
        })
        .prefault({}),
    })
    .prefault({}),
  queues: z
    .array(QueueSchema)
    .min(1)
    .default([
      { name: "orders", type: "quorum", deliveryLimit: 5 },
      { name: "tracking", type: "quorum", deliveryLimit: 3 },
    ]),
  deadLetterExchange: z
    .string()
    .regex(/^[a-z][a-z0-9._-]*$/)
    .default("floodgate.dlx"),
});

/** Static bucket: content-hashed files served by nginx (the CDN edge) under /static/. */
export const StaticSchema = z.object({
  manifestMaxAgeSeconds: count(0, 3600).default(5),
  immutableMaxAgeSeconds: count(60, 31_536_000).default(31_536_000),
});

/** Backups: schedule (cron) and retention. */
export const BackupsSchema = z.object({
  schedule: z
    .string()
    .regex(/^(\S+\s+){4}\S+$/, { error: "a five-field cron expression" })
    .default("15 */6 * * *"),
  retentionDays: count(1, 3650).default(7),
  keepLast: count(1, 1000).default(8),
  /** The backup service's HTTP port: /health and /metrics (last success, size, duration, restore drills). */
  port: port.default(8096),
});

/** Monitoring: Prometheus, Alertmanager and the exporters. */
export const MonitoringSchema = z.object({
  prometheusPort: port.default(19090),
  alertmanagerPort: port.default(19093),
  scrapeIntervalSeconds: count(1, 300).default(5),
  evaluationIntervalSeconds: count(1, 300).default(5),
  retentionHours: count(1, 100_000).default(72),
  exporterPorts: z
    .object({
      node: port.default(19100),
      nginx: port.default(19113),
      redis: port.default(19121),
      mysqldBase: port.default(19104),
    })
    .prefault({}),
  oncallWebhookUrl: z.url().optional(),
});

/** Autoscaling of the API replicas. */
export const AutoscalingSchema = z.object({
  /** Whether the autoscaler runs (the local stack's `npm start`, the Docker target's container). */
  enabled: z.boolean().default(true),
  /** The autoscaler's HTTP port: /health, /metrics and the Alertmanager webhook. */
  port: port.default(8095),
  minReplicas: count(1, 64).default(2),
  maxReplicas: count(1, 64).default(6),
  cooldownSeconds: count(0, 3600).default(60),
  scaleOutCpuPercent: count(1, 100).default(75),
  scaleInCpuPercent: count(1, 100).default(25),
  scaleOutP99Ms: count(1, 60_000).default(200),
});

const BaseTopologySchema = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/)
    .default("floodgate"),
  nginx: NginxSchema.prefault({}),
  api: ApiSchema.prefault({}),
  tracker: TrackerSchema.prefault({}),
  workers: WorkersSchema,
  mysql: MysqlSchema.prefault({}),
  redis: RedisSchema.prefault({}),
  rabbitmq: RabbitmqSchema.prefault({}),
  static: StaticSchema.prefault({}),
  backups: BackupsSchema.prefault({}),
  monitoring: MonitoringSchema.prefault({}),
  autoscaling: AutoscalingSchema.prefault({}),
});

/** The whole system, validated: cross-field rules (unique ports, consistent scaling) included. */
export const TopologySchema = BaseTopologySchema.superRefine((t, ctx) => {
  const seen = new Map<number, string>();
  for (const [path, value] of listPorts(t)) {
    const other = seen.get(value);
    if (other) {
      ctx.addIssue({
        code: "custom",
        path: path.split("."),
        input: value,
        message: `port ${value} is already used by ${other}`,
      });
    } else seen.set(value, path);
  }
  const { minReplicas, maxReplicas } = t.autoscaling;
  if (minReplicas > maxReplicas) {
    ctx.addIssue({
      code: "custom",
      path: ["autoscaling", "minReplicas"],
      input: minReplicas,
      message: `must not exceed autoscaling.maxReplicas (${maxReplicas})`,
    });
  }
  if (t.autoscaling.scaleInCpuPercent >= t.autoscaling.scaleOutCpuPercent) {
    ctx.addIssue({
      code: "custom",
      path: ["autoscaling", "scaleInCpuPercent"],
      input: t.autoscaling.scaleInCpuPercent,
      message: `must be below autoscaling.scaleOutCpuPercent (${t.autoscaling.scaleOutCpuPercent})`,
    });
  }
  const queueNames = t.rabbitmq.queues.map((q) => q.name);
  queueNames.forEach((name, i) => {
    if (queueNames.indexOf(name) !== i) {
      ctx.addIssue({
        code: "custom",
        path: ["rabbitmq", "queues", i, "name"],
        input: name,
        message: `duplicate queue ${name}`,
      });
    }
  });
});

/** A validated topology with every default filled in. */
export type Topology = z.infer<typeof TopologySchema>;
/** What a user may write: every field optional. */
export type TopologyInput = z.input<typeof TopologySchema>;

/** Every TCP port the topology binds, as [field path, port]; ranges (API replicas, Redis nodes) expanded. */
export function listPorts(t: z.infer<typeof BaseTopologySchema>): Array<[string, number]> {
  const ports: Array<[string, number]> = [
    ["nginx.port", t.nginx.port],
    ["nginx.statusPort", t.nginx.statusPort],
    ["tracker.port", t.tracker.port],
    ["autoscaling.port", t.autoscaling.port],
    ["backups.port", t.backups.port],
    ["mysql.primaryPort", t.mysql.primaryPort],
    ["rabbitmq.port", t.rabbitmq.port],
    ["rabbitmq.managementPort", t.rabbitmq.managementPort],
    ["rabbitmq.prometheusPort", t.rabbitmq.prometheusPort],
    ["rabbitmq.distPort", t.rabbitmq.distPort],
    ["rabbitmq.epmdPort", t.rabbitmq.epmdPort],
    ["monitoring.prometheusPort", t.monitoring.prometheusPort],
    ["monitoring.alertmanagerPort", t.monitoring.alertmanagerPort],
    ["monitoring.exporterPorts.node", t.monitoring.exporterPorts.node],
    ["monitoring.exporterPorts.nginx", t.monitoring.exporterPorts.nginx],
    ["monitoring.exporterPorts.redis", t.monitoring.exporterPorts.redis],
  ];
  // The API range covers the autoscaler's maximum, so scaling out never collides.
  const apiSlots = Math.max(t.api.replicas, t.autoscaling.maxReplicas);
  for (let i = 0; i < apiSlots; i++) ports.push(["api.basePort", t.api.basePort + i]);
  for (let i = 0; i < WORKER_KINDS.length * WORKER_PORT_BLOCK; i++) {
    ports.push(["workers.metricsBasePort", t.workers.metricsBasePort + i]);
  }
  for (let i = 0; i < t.mysql.replicas; i++) ports.push(["mysql.replicaBasePort", t.mysql.replicaBasePort + i]);
  for (let i = 0; i <= t.mysql.replicas; i++) {
    ports.push(["monitoring.exporterPorts.mysqldBase", t.monitoring.exporterPorts.mysqldBase + i]);
  }
  const redisNodes = t.redis.masters * (1 + t.redis.replicasPerMaster);
  for (let i = 0; i < redisNodes; i++) {
    ports.push(["redis.basePort", t.redis.basePort + i]);
    // Redis Cluster's bus listens on port + 10000.
    ports.push(["redis.basePort", t.redis.basePort + i + 10000]);
  }
  return ports;
}
