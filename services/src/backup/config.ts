import { z } from "zod";

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
  /** Where backups go: a directory (the local stack). The S3 store is not implemented yet. */
  BACKUP_DIR: z.string().min(1).optional(),
  S3_ENDPOINT: z.string().optional(),
  /** "after-each-backup" restores every new MariaDB backup into a scratch server and verifies it. */
  BACKUP_RESTORE_DRILL: z.enum(["after-each-backup", "off"]).default("off"),
});

export type BackupConfig = z.infer<typeof BackupEnvSchema>;

/** Parse the environment; a bad value is reported with its variable name and value (secrets masked). */
export function parseBackupEnv(env: NodeJS.ProcessEnv): BackupConfig {
  const parsed = BackupEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      const value = env[key];
      const shown = value === undefined ? "(unset)" : /PASSWORD/.test(key) ? "(hidden)" : JSON.stringify(value);
      return `${key} = ${shown}: ${i.message}`;
    });
    throw new Error(`backup configuration:\n  ${lines.join("\n  ")}`);
  }
  if (!parsed.data.BACKUP_DIR)
    throw new Error(
      `backup configuration:\n  BACKUP_DIR = (unset): required (the S3 store${parsed.data.S3_ENDPOINT ? ` at ${parsed.data.S3_ENDPOINT}` : ""} is not implemented yet)`,
    );
  return parsed.data;
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
