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

/** The manifest's file name: the last object written for a backup. */
export const MANIFEST = "manifest.json";

/** A backup's files on local disk, each checked against its manifest; `release()` drops any copy. */
export interface LocalBackup {
  dir: string;
  release(): Promise<void>;
}

/** A backup whose files do not match its manifest: every mismatch, one line each. */
export class CorruptBackupError extends Error {
  constructor(readonly problems: string[]) {
    super(`corrupt backup:\n  ${problems.join("\n  ")}`);
    this.name = "CorruptBackupError";
  }
}

/**
 * Where backups are kept (a directory, or an S3 bucket). One promise for every store: a backup is
 * visible only once its manifest is, and its manifest is written after all of its files.
 */
export interface BackupStore {
  /** Where the backups go, for logs (never a secret). */
  readonly location: string;
  /** A fresh local working folder for a backup in progress. */
  begin(id: string): Promise<string>;
  /** Checksum every file in `work`, keep the files, then publish the manifest: the backup is complete. */
  commit(work: string, manifest: Omit<Manifest, "files">): Promise<Manifest>;
  /** Drop a backup in progress. */
  abandon(work: string): Promise<void>;
  /** Every complete backup (one with a manifest), newest first. */
  list(kind?: BackupKind): Promise<Manifest[]>;
  /** A backup's files in a local folder, each verified; throws CorruptBackupError on any mismatch. */
  fetch(m: Manifest): Promise<LocalBackup>;
  /** Delete a backup: its manifest first, so a half-removed one is never listed. */
  remove(id: string): Promise<void>;
}

/** The files of `dir` with their sizes and sha256, by name. */
export async function describeFiles(dir: string): Promise<Manifest["files"]> {
  const names = (await fs.readdir(dir)).filter((n) => n !== MANIFEST).sort();
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      return { name, bytes: (await fs.stat(file)).size, sha256: await sha256File(file) };
    }),
  );
}

/** Check every file of a backup in `dir` against its manifest's sha256: one problem per mismatch. */
export async function verifyFiles(dir: string, m: Manifest): Promise<string[]> {
  const problems: string[] = [];
  for (const f of m.files) {
    const actual = await sha256File(path.join(dir, f.name)).catch(() => "missing");
    if (actual !== f.sha256)
      problems.push(`${m.id}/${f.name}: sha256 ${actual} ≠ manifest ${f.sha256} (corrupt backup)`);
  }
  return problems;
}

/**
 * Backups in a directory: `<dir>/<id>/` holds the files and `manifest.json`. A backup is written
 * under a hidden name and renamed into place with its manifest, so readers never see half of one.
 */
export class FsBackupStore implements BackupStore {
  constructor(readonly dir: string) {}

  get location(): string {
    return this.dir;
  }

  async begin(id: string): Promise<string> {
    const work = path.join(this.dir, `.${id}.partial`);
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true, mode: 0o700 });
    return work;
  }

  /** Write the manifest beside the files and publish the backup atomically (one rename). */
  async commit(work: string, manifest: Omit<Manifest, "files">): Promise<Manifest> {
    const full: Manifest = { ...manifest, files: await describeFiles(work) };
    await fs.writeFile(path.join(work, MANIFEST), JSON.stringify(full, null, 2));
    await fs.rename(work, path.join(this.dir, manifest.id));
    return full;
  }

  async abandon(work: string): Promise<void> {
    await fs.rm(work, { recursive: true, force: true });
  }

  async list(kind?: BackupKind): Promise<Manifest[]> {
    await fs.mkdir(this.dir, { recursive: true });
    const out: Manifest[] = [];
    for (const entry of await fs.readdir(this.dir)) {
      if (entry.startsWith(".")) continue;
      try {
        const m = JSON.parse(await fs.readFile(path.join(this.dir, entry, MANIFEST), "utf8")) as Manifest;
        if (!kind || m.kind === kind) out.push(m);
      } catch {
        // no manifest: not a complete backup
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** The backup's own folder, verified in place (nothing to copy, nothing to release). */
  async fetch(m: Manifest): Promise<LocalBackup> {
    const dir = path.join(this.dir, m.id);
    const problems = await verifyFiles(dir, m);
    if (problems.length) throw new CorruptBackupError(problems);
    return { dir, release: async () => undefined };
  }

  async remove(id: string): Promise<void> {
    await fs.rm(path.join(this.dir, id, MANIFEST), { force: true });
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
