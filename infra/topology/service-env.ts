import { z } from "zod";
import { hostPort, type Addresses, type HostPort } from "./addresses";
import { ApiSchema, MysqlSchema, RabbitmqSchema, type Topology } from "./schema";
import { secret } from "./secret";

/** The environment variables a service process reads: the only interface between a target and the code. */
export const SERVICE_ENV_VARS = [
  "INSTANCE_ID",
  "HTTP_HOST",
  "HTTP_PORT",
  "LOG_LEVEL",
  "JWT_SECRET",
  "MYSQL_PRIMARY",
  "MYSQL_REPLICAS",
  "MYSQL_DATABASE",
  "MYSQL_USER",
  "MYSQL_PASSWORD",
  "REDIS_NODES",
  "REDIS_USER",
  "REDIS_PASSWORD",
  "RABBITMQ_ADDRESS",
  "RABBITMQ_VHOST",
  "RABBITMQ_USER",
  "RABBITMQ_PASSWORD",
  "TOKEN_TTL_SECONDS",
  "CACHE_L1_TTL_MS",
  "CACHE_L1_MAX_ENTRIES",
  "CACHE_L2_TTL_SECONDS",
  "CACHE_NEGATIVE_TTL_SECONDS",
  "RATE_LIMIT_PER_IP_PER_SECOND",
  "RATE_LIMIT_PER_USER_PER_SECOND",
  "LOGINS_PER_MINUTE_PER_IP",
  "SIGNUPS_PER_MINUTE_PER_IP",
  "STATIC_DIR",
  "STATIC_BASE_URL",
  "WORKER_CONCURRENCY",
  "SHUTDOWN_DRAIN_MS",
  "NAIVE_BASELINE",
] as const;

/** One service variable's name. */
export type ServiceEnvVar = (typeof SERVICE_ENV_VARS)[number];
/** A complete service environment. */
export type ServiceEnv = Record<ServiceEnvVar, string>;

const HostPortSchema = z.string().transform((value, ctx): HostPort => {
  const [, host, digits] = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value) ?? [];
  const port = Number(digits);
  if (host === undefined || port < 1 || port > 65535) {
    ctx.addIssue({ code: "custom", input: value, message: "expected host:port" });
    return z.NEVER;
  }
  return { host, port };
});
const HostPortListSchema = z
  .string()
  .transform((v) => (v === "" ? [] : v.split(",")))
  .pipe(z.array(HostPortSchema));

/** What a service knows about its world, parsed from its environment. */
export const ServiceConfigSchema = z.object({
  INSTANCE_ID: z.string().regex(/^[a-z0-9-]{1,64}$/),
  HTTP_HOST: z.string().min(1),
  HTTP_PORT: z.coerce.number().int().min(1).max(65535),
  LOG_LEVEL: ApiSchema.shape.logLevel.unwrap(),
  JWT_SECRET: secret(),
  MYSQL_PRIMARY: HostPortSchema,
  MYSQL_REPLICAS: HostPortListSchema,
  MYSQL_DATABASE: MysqlSchema.shape.database.unwrap(),
  MYSQL_USER: z.string().min(1),
  MYSQL_PASSWORD: secret(),
  REDIS_NODES: HostPortListSchema.refine((nodes) => nodes.length > 0, { error: "at least one Redis node" }),
  REDIS_USER: z.string().min(1),
  REDIS_PASSWORD: secret(),
  RABBITMQ_ADDRESS: HostPortSchema,
  RABBITMQ_VHOST: RabbitmqSchema.shape.vhost.unwrap(),
  RABBITMQ_USER: z.string().min(1),
  RABBITMQ_PASSWORD: secret(),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60),
  CACHE_L1_TTL_MS: z.coerce.number().int().min(0),
  CACHE_L1_MAX_ENTRIES: z.coerce.number().int().min(1),
  CACHE_L2_TTL_SECONDS: z.coerce.number().int().min(1),
  CACHE_NEGATIVE_TTL_SECONDS: z.coerce.number().int().min(1),
  RATE_LIMIT_PER_IP_PER_SECOND: z.coerce.number().int().min(1),
  RATE_LIMIT_PER_USER_PER_SECOND: z.coerce.number().int().min(1),
  LOGINS_PER_MINUTE_PER_IP: z.coerce.number().int().min(1),
  SIGNUPS_PER_MINUTE_PER_IP: z.coerce.number().int().min(1),
  /** Where the static bucket's files are written (locally a directory nginx serves). */
  STATIC_DIR: z.string().min(1),
  /** The public URL prefix of the static bucket. */
  /** Messages a queue worker handles at once (API processes ignore it). */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1024),
  /** How long a stopping API replica keeps answering (longer than the load balancer's idle keep-alive). */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(600_000),
  STATIC_BASE_URL: z.string().regex(/^(https?:\/\/[^/]+)?\/.*\/$/, { error: "a URL or path ending in /" }),
  /** "on" serves the benchmark's naive baseline route (api.naiveBaseline). */
  NAIVE_BASELINE: z.enum(["on", "off"]).transform((v) => v === "on"),
});

/** A service's parsed configuration. */
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;

/** A service environment that failed validation; names each variable (secret values hidden). */
export class ServiceEnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid service environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ServiceEnvError";
  }
}

/** Parse a process environment into a ServiceConfig; throws ServiceEnvError naming each bad variable. */
export function parseServiceEnv(env: Record<string, string | undefined>): ServiceConfig {
  const picked = Object.fromEntries(SERVICE_ENV_VARS.map((k) => [k, env[k]]));
  const result = ServiceConfigSchema.safeParse(picked);
  if (result.success) return result.data;
  throw new ServiceEnvError(
    result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "(env)");
      const raw = picked[name];
      const shown = raw === undefined ? "unset" : /PASSWORD|SECRET/.test(name) ? "<secret>" : JSON.stringify(raw);
      return `${name} (${shown}): ${issue.message}`;
    }),
  );
}

/** The one process the environment is for: its id and the port it listens on. */
export interface ServiceInstance {
  id: string;
  /** Address the process binds: 127.0.0.1 locally, 0.0.0.0 in a container. */
  host: string;
  port: number;
  /** For queue workers: messages handled at once. */
  concurrency?: number;
}

/** Where a target keeps what the services write (the static bucket, locally a directory). */
export interface ServicePaths {
  staticDir: string;
  staticBaseUrl: string;
}

/** Map the topology, a target's addresses and paths, and one instance to that process's environment. */
export function serviceEnv(t: Topology, addrs: Addresses, instance: ServiceInstance, paths: ServicePaths): ServiceEnv {
  return {
    INSTANCE_ID: instance.id,
    HTTP_HOST: instance.host,
    HTTP_PORT: String(instance.port),
    LOG_LEVEL: t.api.logLevel,
    JWT_SECRET: t.api.jwtSecret,
    MYSQL_PRIMARY: hostPort(addrs.mysqlPrimary),
    MYSQL_REPLICAS: addrs.mysqlReplicas.map(hostPort).join(","),
    MYSQL_DATABASE: t.mysql.database,
    MYSQL_USER: t.mysql.users.app.name,
    MYSQL_PASSWORD: t.mysql.users.app.password,
    REDIS_NODES: addrs.redis.map(hostPort).join(","),
    REDIS_USER: "app",
    REDIS_PASSWORD: t.redis.users.app.password,
    RABBITMQ_ADDRESS: hostPort(addrs.rabbitmq),
    RABBITMQ_VHOST: t.rabbitmq.vhost,
    RABBITMQ_USER: t.rabbitmq.users.app.name,
    RABBITMQ_PASSWORD: t.rabbitmq.users.app.password,
    TOKEN_TTL_SECONDS: String(t.api.tokenTtlSeconds),
    CACHE_L1_TTL_MS: String(t.api.cache.l1TtlMs),
    CACHE_L1_MAX_ENTRIES: String(t.api.cache.l1MaxEntries),
    CACHE_L2_TTL_SECONDS: String(t.api.cache.l2TtlSeconds),
    CACHE_NEGATIVE_TTL_SECONDS: String(t.api.cache.negativeTtlSeconds),
    RATE_LIMIT_PER_IP_PER_SECOND: String(t.api.rateLimits.perIpPerSecond),
    RATE_LIMIT_PER_USER_PER_SECOND: String(t.api.rateLimits.perUserPerSecond),
    LOGINS_PER_MINUTE_PER_IP: String(t.api.rateLimits.loginsPerMinutePerIp),
    SIGNUPS_PER_MINUTE_PER_IP: String(t.api.rateLimits.signupsPerMinutePerIp),
    STATIC_DIR: paths.staticDir,
    STATIC_BASE_URL: paths.staticBaseUrl,
    WORKER_CONCURRENCY: String(instance.concurrency ?? 1),
    SHUTDOWN_DRAIN_MS: String((t.nginx.upstreamKeepaliveSeconds + 1) * 1000),
    NAIVE_BASELINE: t.api.naiveBaseline ? "on" : "off",
  };
}

/** The inverse of parseServiceEnv: a parsed configuration back to its environment. */
export function serviceConfigToEnv(c: ServiceConfig): ServiceEnv {
  return {
    INSTANCE_ID: c.INSTANCE_ID,
    HTTP_HOST: c.HTTP_HOST,
    HTTP_PORT: String(c.HTTP_PORT),
    LOG_LEVEL: c.LOG_LEVEL,
    JWT_SECRET: c.JWT_SECRET,
    MYSQL_PRIMARY: hostPort(c.MYSQL_PRIMARY),
    MYSQL_REPLICAS: c.MYSQL_REPLICAS.map(hostPort).join(","),
    MYSQL_DATABASE: c.MYSQL_DATABASE,
    MYSQL_USER: c.MYSQL_USER,
    MYSQL_PASSWORD: c.MYSQL_PASSWORD,
    REDIS_NODES: c.REDIS_NODES.map(hostPort).join(","),
    REDIS_USER: c.REDIS_USER,
    REDIS_PASSWORD: c.REDIS_PASSWORD,
    RABBITMQ_ADDRESS: hostPort(c.RABBITMQ_ADDRESS),
    RABBITMQ_VHOST: c.RABBITMQ_VHOST,
    RABBITMQ_USER: c.RABBITMQ_USER,
    RABBITMQ_PASSWORD: c.RABBITMQ_PASSWORD,
    TOKEN_TTL_SECONDS: String(c.TOKEN_TTL_SECONDS),
    CACHE_L1_TTL_MS: String(c.CACHE_L1_TTL_MS),
    CACHE_L1_MAX_ENTRIES: String(c.CACHE_L1_MAX_ENTRIES),
    CACHE_L2_TTL_SECONDS: String(c.CACHE_L2_TTL_SECONDS),
    CACHE_NEGATIVE_TTL_SECONDS: String(c.CACHE_NEGATIVE_TTL_SECONDS),
    RATE_LIMIT_PER_IP_PER_SECOND: String(c.RATE_LIMIT_PER_IP_PER_SECOND),
    RATE_LIMIT_PER_USER_PER_SECOND: String(c.RATE_LIMIT_PER_USER_PER_SECOND),
    LOGINS_PER_MINUTE_PER_IP: String(c.LOGINS_PER_MINUTE_PER_IP),
    SIGNUPS_PER_MINUTE_PER_IP: String(c.SIGNUPS_PER_MINUTE_PER_IP),
    STATIC_DIR: c.STATIC_DIR,
    STATIC_BASE_URL: c.STATIC_BASE_URL,
    WORKER_CONCURRENCY: String(c.WORKER_CONCURRENCY),
    SHUTDOWN_DRAIN_MS: String(c.SHUTDOWN_DRAIN_MS),
    NAIVE_BASELINE: c.NAIVE_BASELINE ? "on" : "off",
  };
}

/**
 * The backup service's environment on every target (services/src/backup/config.ts reads it):
 * MariaDB dumps from the last replica, so the primary never pays for them; Redis snapshots through
 * the admin ACL user; schedule and retention from the topology. Targets add where backups go
 * (locally BACKUP_DIR; on Docker and Kubernetes the backups bucket: S3_* and a BACKUP_WORK_DIR for
 * scratch) and the HTTP port. Secrets included: call it on the secret topology.
 */
export function backupServiceEnv(t: Topology, a: Addresses): Record<string, string> {
  const source = a.mysqlReplicas.at(-1) ?? a.mysqlPrimary;
  return {
    BACKUP_SCHEDULE: t.backups.schedule,
    BACKUP_RETENTION_DAYS: String(t.backups.retentionDays),
    BACKUP_KEEP_LAST: String(t.backups.keepLast),
    BACKUP_MYSQL_SOURCE: hostPort(source),
    MYSQL_DATABASE: t.mysql.database,
    BACKUP_MYSQL_USER: t.mysql.users.backup.name,
    BACKUP_MYSQL_PASSWORD: t.mysql.users.backup.password,
    BACKUP_REDIS_NODES: a.redis.map(hostPort).join(","),
    BACKUP_REDIS_USER: "admin",
    BACKUP_REDIS_PASSWORD: t.redis.users.admin.password,
  };
}
