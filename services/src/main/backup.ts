/**
 * Entry point of the backup service.
 *   backup.js                 run on BACKUP_SCHEDULE: MariaDB (from a replica) and Redis backups,
 *                             retention, and a restore drill when BACKUP_RESTORE_DRILL says so;
 *                             serves /health and /metrics on HTTP_PORT
 *   backup.js --once KIND     take one backup (mysql or redis), apply retention, exit (CronJobs)
 *   backup.js --drill [ID]    restore the newest (or the named) MariaDB backup into a scratch server,
 *                             verify it, exit 0 when verified
 */
import http from "node:http";
import { runMain } from "../platform/entry-point";
import { parseArgs } from "node:util";
import { Cron } from "croner";
import pino from "pino";
import { collectDefaultMetrics, register } from "prom-client";
import { loadBackupEnv } from "../backup/config";
import { openBackupStore } from "../backup/open-store";
import { BackupService } from "../backup/service";
import type { BackupKind } from "../backup/store";

const KINDS: BackupKind[] = ["mysql", "redis"];

async function main(config: ReturnType<typeof loadBackupEnv>): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { once: { type: "string" }, drill: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  // One-shot runs keep stdout for their result; the service logs JSON lines to stdout as the others do.
  const oneShot = values.once !== undefined || values.drill;
  const log = pino(
    { level: config.LOG_LEVEL, base: { instance: config.INSTANCE_ID } },
    pino.destination(oneShot ? 2 : 1),
  );
  const service = new BackupService(config, openBackupStore(config), log);

  if (values.once !== undefined) {
    if (!KINDS.includes(values.once as BackupKind)) {
      process.stderr.write(`--once ${values.once}: expected one of ${KINDS.join(", ")}\n`);
      return 64; // EX_USAGE
    }
    await service.backup(values.once as BackupKind);
    return 0;
  }
  if (values.drill) {
    const result = await service.drill(positionals[0]);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }

  collectDefaultMetrics();
  register.setDefaultLabels({ instance_id: config.INSTANCE_ID });
  let running: Promise<void> = Promise.resolve();
  const cycle = async () => {
    for (const kind of KINDS) await service.backup(kind).catch(() => undefined); // logged and counted
    if (config.BACKUP_RESTORE_DRILL === "after-each-backup") await service.drill();
  };
  // protect: a run still going when the next is due is not doubled up.
  const cron = new Cron(config.BACKUP_SCHEDULE, { protect: true, timezone: "UTC" }, () => {
    running = cycle();
    return running;
  });
  const server = http.createServer((req, res) => {
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok", nextRun: cron.nextRun()?.toISOString() ?? null }));
    } else if (req.url === "/metrics") {
      register.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": register.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`metrics: ${err.message}\n`);
        },
      );
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not_found" }));
    }
  });
  server.listen(config.HTTP_PORT, config.HTTP_HOST, () =>
    log.info(
      { port: config.HTTP_PORT, schedule: config.BACKUP_SCHEDULE, next: cron.nextRun(), store: service.store.location },
      "backups scheduled",
    ),
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      cron.stop();
      server.close();
      // A backup in progress finishes (its replica's applier must be restarted), then the process exits.
      void running.finally(resolve);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  return 0;
}

runMain(loadBackupEnv, main);
