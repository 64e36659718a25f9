import { createReadStream } from "node:fs";
import { ScratchMariadb } from "./scratch-mariadb";
import { sha256File, type FsBackupStore, type Manifest } from "./store";

/** What a restore drill found. */
export interface DrillResult {
  ok: boolean;
  backupId: string | null;
  /** Seconds between the backup and the drill: how much a restore of it would lose now. */
  rpoSeconds: number | null;
  /** Seconds to restore it into an empty server. */
  rtoSeconds: number | null;
  problems: string[];
}

/** Check every file of a backup against its manifest's sha256. */
export async function verifyFiles(store: FsBackupStore, m: Manifest): Promise<string[]> {
  const problems: string[] = [];
  for (const f of m.files) {
    const actual = await sha256File(store.path(m.id, f.name)).catch(() => "missing");
    if (actual !== f.sha256)
      problems.push(`${m.id}/${f.name}: sha256 ${actual} ≠ manifest ${f.sha256} (corrupt backup)`);
  }
  return problems;
}

/**
 * Restore the newest MariaDB backup (or `id`) into a scratch server and verify it: the files'
 * checksums, then every table's row count and CHECKSUM TABLE against the manifest, which recorded
 * them at the backup's GTID position.
 */
export async function restoreDrill(store: FsBackupStore, id?: string, now = () => new Date()): Promise<DrillResult> {
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
  const problems = await verifyFiles(store, m);
  if (problems.length) return { ok: false, backupId: m.id, rpoSeconds, rtoSeconds: null, problems };

  const started = Date.now();
  const server = await ScratchMariadb.start();
  try {
    await server.sql("", createReadStream(store.path(m.id, "dump.sql")));
    const rtoSeconds = (Date.now() - started) / 1000;
    for (const [table, expected] of Object.entries(m.tables ?? {})) {
      const ident = `\`${m.database}\`.\`${table.replace(/`/g, "``")}\``;
      const out = await server.sql(`SELECT COUNT(*) FROM ${ident}; CHECKSUM TABLE ${ident};`).catch((e: Error) => e);
      if (out instanceof Error) {
        problems.push(`${table}: ${out.message}`);
        continue;
      }
      const [rows, checksumLine] = out.trim().split("\n");
      const checksum = checksumLine?.split("\t")[1];
      if (Number(rows) !== expected.rows) problems.push(`${table}: ${rows} rows restored, ${expected.rows} backed up`);
      if (checksum !== expected.checksum)
        problems.push(`${table}: CHECKSUM ${checksum}, backed up ${expected.checksum}`);
    }
    return { ok: problems.length === 0, backupId: m.id, rpoSeconds, rtoSeconds, problems };
  } finally {
    await server.stop();
  }
}
