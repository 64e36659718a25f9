import path from "node:path";
import { hostPort } from "../../../infra/topology";
import { exitedMessage, type StackContext } from "../context";
import { httpGet } from "./api";
import { waitFor } from "../wait";

/** The backup service's environment on the local stack: the same variables the Docker target sets, a directory for the store. */
export function backupServiceEnv(ctx: StackContext): Record<string, string> {
  const t = ctx.topology;
  const a = ctx.addresses;
  const source = a.mysqlReplicas.at(-1) ?? a.mysqlPrimary;
  return {
    HTTP_HOST: ctx.bindHost,
    HTTP_PORT: String(t.backups.port),
    INSTANCE_ID: "backups",
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
    // Beside the static bucket, never under it: nginx serves only static/.
    BACKUP_DIR: ctx.layout.dir("backups"),
    BACKUP_RESTORE_DRILL: "after-each-backup",
  };
}

/** Start the backup service (scheduled backups, /health, /metrics) and wait until it answers. */
export async function startBackups(ctx: StackContext): Promise<void> {
  const address = ctx.addresses.backups!;
  ctx.supervisor.start({
    name: "backups",
    command: process.execPath,
    args: ["--import", "tsx", path.join("services", "src", "main", "backup.ts")],
    cwd: ctx.repoRoot,
    env: backupServiceEnv(ctx),
    logFile: ctx.layout.log("backups"),
    address: hostPort(address),
    restart: true,
    // A backup in progress finishes first: the replica's applier must be restarted.
    stopTimeoutMs: 60_000,
  });
  const ms = await waitFor(
    "backups",
    async () => (await httpGet(`http://${hostPort(address)}/health`)).status === 200,
    {
      timeoutMs: 60_000,
      intervalMs: 200,
      gone: exitedMessage(ctx, "backups"),
    },
  );
  ctx.progress(`backups healthy in ${ms} ms (schedule ${ctx.topology.backups.schedule})`);
}
