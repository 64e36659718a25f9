import os from "node:os";
import { z } from "zod";
import { s3BucketSchema, s3EndpointSchema } from "../platform/s3-client";

const hostPortSchema = z.string().regex(/^[^\s:]+:\d{1,5}$/, { error: "host:port" });
const count = (min: number) => z.coerce.number().int().min(min);

/** The backup service's environment (the Docker and Kubernetes programs set the same variables). */
export const BackupEnvSchema = z.object({
  HTTP_HOST: z.string().default("0.0.0.0"),
  HTTP_PORT: count(1).max(65535),
  INSTANCE_ID: z.string().default("backups"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  BACKUP_SCHEDULE: z.string().regex(/^(\S+\s+){4}\S+$/, { error: "a five-field cron expression" }),
  BACKUP_RETENTION_DAYS: count(1),
  BACKUP_KEEP_LAST: count(1),
  BACKUP_MYSQL_SOURCE: hostPortSchema,
  MYSQL_DATABASE: z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/),
  BACKUP_MYSQL_USER: z.string().min(1),
  BACKUP_MYSQL_PASSWORD: z.string().min(1),
  BACKUP_REDIS_NODES: z
    .string()
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(hostPortSchema).min(1)),
  BACKUP_REDIS_USER: z.string().min(1),
  BACKUP_REDIS_PASSWORD: z.string().min(1),
  /** Where backups go: a directory (the local stack); when set, the S3 variables are not read. */
  BACKUP_DIR: z.string().min(1).optional(),
  /** Or the backups bucket over S3 (the Docker and Kubernetes targets): all four are needed. */
  S3_ENDPOINT: s3EndpointSchema.optional(),
  S3_BUCKET: s3BucketSchema.optional(),
  S3_ACCESS_KEY: z.string().min(1).optional(),
  S3_SECRET_KEY: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default("us-east-1"),
  /** Local scratch space for backups in progress and downloaded for a restore. */
  BACKUP_WORK_DIR: z.string().min(1).default(os.tmpdir()),
  /** "after-each-backup" restores every new MariaDB backup into a scratch server and verifies it. */
  BACKUP_RESTORE_DRILL: z.enum(["after-each-backup", "off"]).default("off"),
});

/** Where backups are kept: a directory, or a bucket reached over S3. */
export type StoreTarget =
  | { type: "directory"; dir: string }
  | { type: "s3"; endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };

/** The backup service's configuration: its environment, and the store it chose. */
export type BackupConfig = z.infer<typeof BackupEnvSchema> & { store: StoreTarget };

const S3_VARS = ["S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"] as const;

/** A variable's value for an error message: secrets never shown. */
function shown(env: NodeJS.ProcessEnv, key: string): string {
  const value = env[key];
  if (value === undefined) return "(unset)";
  return /PASSWORD|SECRET|ACCESS_KEY/.test(key) ? "(hidden)" : JSON.stringify(value);
}

/** BACKUP_DIR → a directory; else all four S3 variables → the bucket; anything else names what is missing. */
function storeTarget(c: z.infer<typeof BackupEnvSchema>, env: NodeJS.ProcessEnv): StoreTarget | string[] {
  if (c.BACKUP_DIR) return { type: "directory", dir: c.BACKUP_DIR };
  const { S3_ENDPOINT: endpoint, S3_BUCKET: bucket, S3_ACCESS_KEY: accessKeyId, S3_SECRET_KEY: secretAccessKey } = c;
  if (endpoint && bucket && accessKeyId && secretAccessKey)
    return { type: "s3", endpoint, bucket, region: c.S3_REGION, accessKeyId, secretAccessKey };
  const set = S3_VARS.filter((k) => c[k]);
  const missing = S3_VARS.filter((k) => !c[k]);
  if (set.length === 0)
    return ["BACKUP_DIR", ...missing].map(
      (k) => `${k} = (unset): set BACKUP_DIR (a directory) or all of ${S3_VARS.join(", ")} (the backups bucket)`,
    );
  const given = set.map((k) => `${k} = ${shown(env, k)}`).join(", ");
  return missing.map((k) => `${k} = (unset): required for the S3 store (given: ${given})`);
}

function configError(lines: string[]): never {
  throw new Error(`backup configuration:\n  ${lines.join("\n  ")}`);
}

/** Parse the environment; a bad value is reported with its variable name and value (secrets masked). */
export function parseBackupEnv(env: NodeJS.ProcessEnv): BackupConfig {
  const parsed = BackupEnvSchema.safeParse(env);
  if (!parsed.success)
    configError(
      parsed.error.issues.map((i) => `${String(i.path[0])} = ${shown(env, String(i.path[0]))}: ${i.message}`),
    );
  const store = storeTarget(parsed.data, env);
  if (Array.isArray(store)) configError(store);
  return { ...parsed.data, store };
}

/** Split "host:port". */
export function splitHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(":");
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/** The environment of a child program (mariadb-dump, redis-cli): this process's, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/** The backup service's configuration from this process's environment. */
export const loadBackupEnv = () => parseBackupEnv(process.env);
