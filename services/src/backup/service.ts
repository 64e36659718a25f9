import type { Logger } from "pino";
import type { BackupConfig } from "./config";
import { backupMetrics as metrics } from "./metrics";
import { backupMysql } from "./mysql-backup";
import { backupRedis } from "./redis-backup";
import { restoreDrill, type DrillResult } from "./restore-drill";
import { backupId, toPrune, type BackupKind, type BackupStore, type Manifest } from "./store";

/** Backups of one kind at a time, with retention and metrics; restore drills on demand. */
export class BackupService {
  constructor(
    private readonly config: BackupConfig,
    readonly store: BackupStore,
    private readonly log: Logger,
  ) {}

  /** Take one backup of `kind`, publish it, then apply retention to that kind. */
  async backup(kind: BackupKind): Promise<Manifest> {
    const started = new Date();
    const id = backupId(kind, started);
    const work = await this.store.begin(id);
    try {
      const details = kind === "mysql" ? await backupMysql(this.config, work) : await backupRedis(this.config, work);
      const durationSeconds = (Date.now() - started.getTime()) / 1000;
      const manifest = await this.store.commit(work, {
        id,
        kind,
        createdAt: started.toISOString(),
        durationSeconds,
        ...details,
      });
      metrics.lastSuccess.set({ kind }, Date.now() / 1000);
      metrics.lastSize.set(
        { kind },
        manifest.files.reduce((n, f) => n + f.bytes, 0),
      );
      metrics.lastDuration.set({ kind }, durationSeconds);
      this.log.info({ id, kind, durationSeconds, files: manifest.files.length }, "backup done");
      await this.prune(kind);
      return manifest;
    } catch (err) {
      await this.store.abandon(work);
      metrics.failures.inc({ kind });
      this.log.error({ kind, err: (err as Error).message }, "backup failed");
      throw err;
    }
  }

  /** Remove backups of `kind` past retention (never the newest). */
  async prune(kind: BackupKind): Promise<string[]> {
    const doomed = toPrune(await this.store.list(kind), {
      retentionDays: this.config.BACKUP_RETENTION_DAYS,
      keepLast: this.config.BACKUP_KEEP_LAST,
      now: new Date(),
    });
    for (const b of doomed) await this.store.remove(b.id);
    if (doomed.length) this.log.info({ kind, removed: doomed.map((b) => b.id) }, "retention");
    return doomed.map((b) => b.id);
  }

  /** Restore the newest MariaDB backup (or `id`) into a scratch server and verify it. */
  async drill(id?: string): Promise<DrillResult> {
    metrics.drillLastRun.set(Date.now() / 1000);
    const result = await restoreDrill(this.store, id).catch((err: Error): DrillResult => ({
      ok: false,
      backupId: id ?? null,
      rpoSeconds: null,
      rtoSeconds: null,
      problems: [err.message],
    }));
    metrics.drillOk.set(result.ok ? 1 : 0);
    if (result.ok) metrics.drillLastSuccess.set(Date.now() / 1000);
    if (result.rpoSeconds !== null) metrics.drillRpo.set(result.rpoSeconds);
    if (result.rtoSeconds !== null) metrics.drillRto.set(result.rtoSeconds);
    this.log[result.ok ? "info" : "error"]({ ...result }, "restore drill");
    return result;
  }
}
