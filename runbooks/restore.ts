/**
 * restore: list the stack's MariaDB backups (its backup store: the local folder, or the backups
 * bucket) and restore one — into a new MariaDB instance beside the local stack (default), or in
 * place over the primary's database, which replicates to every replica. Blast radius: `--into new` starts one mariadbd on loopback and a folder under the state
 * folder; `--into in-place` replaces the live database: writes after the backup are lost (a safety
 * backup of them is taken first and named), and writes are refused while it runs.
 */
import path from "node:path";
import { spinner } from "zx";
import { parseBackupEnv } from "../services/src/backup/config";
import { openBackupStore } from "../services/src/backup/open-store";
import { CorruptBackupError, type BackupStore, type LocalBackup, type Manifest } from "../services/src/backup/store";
import { restoreInPlace } from "./lib/restore-in-place";
import { restoreIntoNew, runningInstance, stopInstances } from "./lib/restored-instances";
import { COMMON_HELP, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";
import { openStack, type RunbookStack } from "./lib/stack";

const HELP = `usage: npm run runbook -- restore [--list] [ID|latest] [--into new|in-place] [--port N] [options]
       npm run runbook -- restore --stop-instance ID|all [options]

Lists the stack's MariaDB backups (id, created, GTID position, size, whether every file still
matches the sha256 in its manifest, and whether a restored instance of it runs). Restoring checks
the backup's file checksums first.

  --list             list the backups (also what happens without an ID)
  ID | latest        the backup to restore: an id from --list, or the newest
  --into new         (default) restore into a NEW MariaDB instance: its own data directory under
                     <state-dir>/restores/ID, listening on 127.0.0.1:PORT and its own socket; verified
                     like the restore drill (every table's row count and CHECKSUM TABLE equal to the
                     manifest) and left running for you: the output says how to connect and how to
                     stop it. Running it again finds the instance and only verifies it. On Docker
                     and Kubernetes it runs inside the runbooks container, under its temp folder.
  --port N           the new instance's port (default: a free one)
  --stop-instance ID|all
                     stop the restored instance of backup ID (or every one) and delete its folder;
                     nothing to do when none runs
  --into in-place    replace the database on the stack's primary with the backup. Prints first what
                     would be lost: every transaction after the backup's GTID position (committed after
                     its time), table by table. With --apply and confirmation: the primary is made
                     read-only (the services' writes fail meanwhile), the replicas catch up, a fresh
                     safety backup is taken through the backup service (named in the summary), the
                     database is dropped and reloaded from the dump (binlogged: the replicas replay
                     it), checked against the manifest on the primary and on each replica once caught
                     up, the API's Redis cache is flushed, and the primary is made writable again.
                     Not done: each API process's in-process cache (L1) expires within
                     CACHE_L1_TTL_MS; flash-sale reservations in Redis are left alone: the
                     reconciler re-publishes those whose order the restore dropped, so purchases
                     admitted after the backup come back as orders.

${COMMON_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const { options, values, positionals, help } = parseRunbookArgs(argv, {
    list: { type: "boolean", default: false },
    into: { type: "string", default: "new" },
    port: { type: "string" },
    "stop-instance": { type: "string" },
  });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const into = String(values.into);
  if (into !== "new" && into !== "in-place") throw new UsageError(`--into ${into}: expected new or in-place`);
  if (positionals.length > 1) throw new UsageError(`one backup at a time: ${positionals.join(" ")}`);
  const port = values.port === undefined ? undefined : parsePort(String(values.port));
  if (port !== undefined && into !== "new") throw new UsageError(`--port ${port}: only with --into new`);

  const stack = openStack(options);
  const store = openBackupStore(parseBackupEnv(stack.backupEnv));
  const book = new Runbook("restore", options);
  if (values["stop-instance"] !== undefined) return stopInstances(book, stack, String(values["stop-instance"]));

  const backups = await store.list("mysql");
  const wanted = positionals[0];
  if (values.list || wanted === undefined) return listBackups(book, stack, store, backups);
  if (wanted === "latest" && backups.length === 0) {
    book.check("MariaDB backups", false, `none in ${store.location} to restore`);
    return book.finish(false);
  }
  const m = wanted === "latest" ? backups[0] : backups.find((b) => b.id === wanted);
  if (!m) throw new UsageError(`unknown backup id ${wanted} (npm run runbook -- restore --list shows them)`);

  // Check: the files first, whatever happens next.
  book.step(`backup ${m.id}: created ${m.createdAt}, GTID ${m.gtid ?? "?"}, ${backupSize(m)}`);
  let fetched: LocalBackup;
  try {
    // Downloaded from a bucket, or verified in place in a folder: a large backup takes a while.
    fetched = await spinner(`fetching and checking ${m.id}`, () => store.fetch(m));
  } catch (err) {
    if (!(err instanceof CorruptBackupError)) throw err;
    book.check(`files of ${m.id}`, false, err.problems.join("; "));
    return book.finish(false);
  }
  try {
    book.check(`files of ${m.id}`, true, `${m.files.length} files match the sha256 in the manifest`);
    const dump = path.join(fetched.dir, "dump.sql");
    if (into === "in-place") return book.finish(await restoreInPlace(book, stack, store, m, dump));
    return book.finish(await restoreIntoNew(book, stack, m, dump, port));
  } finally {
    await fetched.release();
  }
}

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1024 || n > 65535) throw new UsageError(`--port ${raw}: expected a port 1024–65535`);
  return n;
}

const backupSize = (m: Manifest) => {
  const bytes = m.files.reduce((n, f) => n + f.bytes, 0);
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
};

/** The --list table: every backup, whether its files still match, and where its restored instance runs. */
async function listBackups(
  book: Runbook,
  stack: RunbookStack,
  store: BackupStore,
  backups: Manifest[],
): Promise<number> {
  book.step(`MariaDB backups in ${store.location}, newest first`);
  if (backups.length === 0) {
    book.check("MariaDB backups", false, `none in ${store.location} (take one: npm run runbook -- backup-now)`);
    return book.finish(false);
  }
  const rows = [["id", "created", "GTID", "size", "files verified", "restored instance"]];
  let healthy = true;
  for (const m of backups) {
    const problems = await store.fetch(m).then(
      (b) => b.release().then(() => []),
      (err: Error) => (err instanceof CorruptBackupError ? err.problems : [err.message]),
    );
    healthy &&= problems.length === 0;
    const info = await runningInstance(stack, m.id);
    rows.push([
      m.id,
      m.createdAt,
      m.gtid ?? "?",
      backupSize(m),
      problems.length ? "NO: corrupt" : "yes (sha256)",
      info ? `127.0.0.1:${info.port}` : "-",
    ]);
    if (problems.length) book.check(`files of ${m.id}`, false, problems.join("; "));
  }
  const widths: number[] = []; // by column: its widest cell
  for (const r of rows) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  for (const r of rows)
    process.stdout.write(
      `  ${r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  book.check("MariaDB backups", healthy, `${backups.length} listed`);
  return book.finish(healthy);
}
