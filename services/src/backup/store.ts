import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

/** A backup's kind. */
export type BackupKind = "mysql" | "redis";

/** What a backup holds, written last: a backup without its manifest is incomplete and ignored. */
export interface Manifest {
  id: string;
  kind: BackupKind;
  createdAt: string;
  source: string;
  /** MariaDB: the GTID position the dump reflects (the replica's gtid_slave_pos, applier stopped). */
  gtid?: string;
  database?: string;
  /** MariaDB: per table, row count and CHECKSUM TABLE at that position. */
  tables?: Record<string, { rows: number; checksum: string }>;
  files: Array<{ name: string; bytes: number; sha256: string }>;
  durationSeconds: number;
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Backups in a directory: `<dir>/<id>/` holds the files and `manifest.json`. A backup is written
 * under a hidden name and renamed into place with its manifest, so readers never see half of one.
 */
export class FsBackupStore {
  constructor(readonly dir: string) {}

  /** A fresh working folder for a backup in progress. */
  async begin(id: string): Promise<string> {
    const work = path.join(this.dir, `.${id}.partial`);
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true, mode: 0o700 });
    return work;
  }

  /** Checksum every file in `work`, write the manifest, and publish the backup atomically. */
  async commit(work: string, manifest: Omit<Manifest, "files">): Promise<Manifest> {
    const names = (await fs.readdir(work)).sort();
    const files = await Promise.all(
      names.map(async (name) => {
        const file = path.join(work, name);
        return { name, bytes: (await fs.stat(file)).size, sha256: await sha256File(file) };
      }),
    );
    const full: Manifest = { ...manifest, files };
    await fs.writeFile(path.join(work, "manifest.json"), JSON.stringify(full, null, 2));
    await fs.rename(work, path.join(this.dir, manifest.id));
    return full;
  }

  /** Drop a backup in progress. */
  async abandon(work: string): Promise<void> {
    await fs.rm(work, { recursive: true, force: true });
  }

  /** Every complete backup, newest first. */
  async list(kind?: BackupKind): Promise<Manifest[]> {
    await fs.mkdir(this.dir, { recursive: true });
    const out: Manifest[] = [];
    for (const entry of await fs.readdir(this.dir)) {
      if (entry.startsWith(".")) continue;
      try {
        const m = JSON.parse(await fs.readFile(path.join(this.dir, entry, "manifest.json"), "utf8")) as Manifest;
        if (!kind || m.kind === kind) out.push(m);
      } catch {
        // no manifest: not a complete backup
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** A file of a backup. */
  path(id: string, name: string): string {
    return path.join(this.dir, id, name);
  }

  /** Delete a backup. */
  async remove(id: string): Promise<void> {
    await fs.rm(path.join(this.dir, id), { recursive: true, force: true });
  }
}

/**
 * Which backups retention removes (of one kind, newest first): those older than `retentionDays`
 * that are not among the newest `keepLast`. The newest backup is never removed.
 */
export function toPrune(backups: Manifest[], opts: { retentionDays: number; keepLast: number; now: Date }): Manifest[] {
  const cutoff = opts.now.getTime() - opts.retentionDays * 86_400_000;
  return backups.filter((b, i) => i >= Math.max(1, opts.keepLast) && Date.parse(b.createdAt) < cutoff);
}

/** A sortable, filesystem-safe backup id. */
export function backupId(kind: BackupKind, at: Date): string {
  return `${kind}-${at.toISOString().replace(/[-:.]/g, "")}`;
}
