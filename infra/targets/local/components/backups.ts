import path from "node:path";
import { backupServiceEnv, hostPort } from "../../../topology";
import { exitedMessage, type StackContext } from "../context";
import { httpGet } from "./api";
import { waitFor } from "../wait";

/** The backup service's environment on the local stack: the same variables the Docker target sets, a directory for the store. */
export function localBackupEnv(ctx: StackContext): Record<string, string> {
  return {
    ...backupServiceEnv(ctx.topology, ctx.addresses),
    HTTP_HOST: ctx.bindHost,
    HTTP_PORT: String(ctx.topology.backups.port),
    INSTANCE_ID: "backups",
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
    env: localBackupEnv(ctx),
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
