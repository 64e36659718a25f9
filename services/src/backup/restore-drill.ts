import { createReadStream } from "node:fs";
import path from "node:path";
import { ScratchMariadb } from "./scratch-mariadb";
import { CorruptBackupError, type BackupStore, type LocalBackup, type Manifest } from "./store";

/** What a restore drill found. */
export interface DrillResult {
  ok: boolean;
  backupId: string | null;
  /** Seconds between the backup and the drill: how much a restore of it would lose now. */
  rpoSeconds: number | null;
  /** Seconds to fetch it from the store, verify its files and restore it into an empty server. */
  rtoSeconds: number | null;
  problems: string[];
}

/**
 * Restore the newest MariaDB backup (or `id`) into a scratch server and verify it: the files'
 * checksums, then every table's row count and CHECKSUM TABLE against the manifest, which recorded
 * them at the backup's GTID position.
 */
export async function restoreDrill(store: BackupStore, id?: string, now = () => new Date()): Promise<DrillResult> {
  const backups = await store.list("mysql");
  const m = id ? backups.find((b) => b.id === id) : backups[0];
  if (!m)
    return {
      ok: false,
      backupId: id ?? null,
      rpoSeconds: null,
      rtoSeconds: null,
      problems: ["no MariaDB backup to restore"],
    };
  const rpoSeconds = (now().getTime() - Date.parse(m.createdAt)) / 1000;
  const started = Date.now();
  let local: LocalBackup;
  try {
    local = await store.fetch(m);
  } catch (err) {
    if (!(err instanceof CorruptBackupError)) throw err;
    return { ok: false, backupId: m.id, rpoSeconds, rtoSeconds: null, problems: err.problems };
  }
  const problems: string[] = [];
  const server = await ScratchMariadb.start().catch(async (err: Error) => {
    await local.release();
    throw err;
  });
  try {
    await server.sql("", createReadStream(path.join(local.dir, "dump.sql")));
    const rtoSeconds = (Date.now() - started) / 1000;
    problems.push(...(await tableProblems((q) => server.sql(q), m)));
    return { ok: problems.length === 0, backupId: m.id, rpoSeconds, rtoSeconds, problems };
  } finally {
    await server.stop();
    await local.release();
  }
}

/**
 * Compare a server's copy of the backed-up database with the manifest: every table's row count and
 * CHECKSUM TABLE. `sql` runs statements there and answers tab-separated rows without headers.
 */
export async function tableProblems(sql: (statements: string) => Promise<string>, m: Manifest): Promise<string[]> {
  const problems: string[] = [];
  for (const [table, expected] of Object.entries(m.tables ?? {})) {
    const ident = `\`${m.database}\`.\`${table.replace(/`/g, "``")}\``;
    const out = await sql(`SELECT COUNT(*) FROM ${ident}; CHECKSUM TABLE ${ident};`).catch((e: Error) => e);
    if (out instanceof Error) {
      problems.push(`${table}: ${out.message}`);
      continue;
    }
    const [rows, checksumLine] = out.trim().split("\n");
    const checksum = checksumLine?.split("\t")[1];
    if (Number(rows) !== expected.rows) problems.push(`${table}: ${rows} rows restored, ${expected.rows} backed up`);
    if (checksum !== expected.checksum) problems.push(`${table}: CHECKSUM ${checksum}, backed up ${expected.checksum}`);
  }
  return problems;
}
