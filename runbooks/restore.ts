/**
 * restore: list the local stack's MariaDB backups and restore one — into a new MariaDB instance
 * beside the stack (default), or in place over the primary's database, which replicates to every
 * replica. Blast radius: `--into new` starts one mariadbd on loopback and a folder under the state
 * folder; `--into in-place` replaces the live database: writes after the backup are lost (a safety
 * backup of them is taken first and named), and writes are refused while it runs.
 */
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { sqlString } from "../infra/render/mariadb";
import { localBackupEnv } from "../scripts/stack/components/backups";
import { mysqlSockets, replicaStatus, rootSql } from "../scripts/stack/components/mysql";
import { unixSocketPath, type StackContext } from "../scripts/stack/context";
import { tableProblems } from "../services/src/backup/restore-drill";
import { exec } from "../services/src/backup/exec";
import { ScratchMariadb } from "../services/src/backup/scratch-mariadb";
import { CorruptBackupError, FsBackupStore, sha256File, type Manifest } from "../services/src/backup/store";
import { flushNamespaces, adminCluster, NAMESPACES } from "./cache";
import { missingFrom, parseGtidPos, type GtidPos } from "./lib/gtid";
import { COMMON_HELP, localStack, parseRunbookArgs, Runbook, UsageError, type LocalStack } from "./lib/runbook";

const HELP = `usage: npm run runbook -- restore [--list] [ID|latest] [--into new|in-place] [--port N] [options]
       npm run runbook -- restore --stop-instance ID|all [options]

Lists the local stack's MariaDB backups (id, created, GTID position, size, whether every file still
matches the sha256 in its manifest, and whether a restored instance of it runs). Restoring checks
the backup's file checksums first.

  --list             list the backups (also what happens without an ID)
  ID | latest        the backup to restore: an id from --list, or the newest
  --into new         (default) restore into a NEW MariaDB instance: its own data directory under
                     <state-dir>/restores/ID, listening on 127.0.0.1:PORT and its own socket; verified
                     like the restore drill (every table's row count and CHECKSUM TABLE equal to the
                     manifest) and left running for you: the output says how to connect and how to
                     stop it. Running it again finds the instance and only verifies it.
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

  const stack = localStack(options.stateDir);
  const store = new FsBackupStore(
    localBackupEnv({ ...stack, bindHost: "127.0.0.1" } as unknown as StackContext).BACKUP_DIR,
  );
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
  let dir: string;
  try {
    dir = (await store.fetch(m)).dir; // the directory store verifies in place: nothing to release
  } catch (err) {
    if (!(err instanceof CorruptBackupError)) throw err;
    book.check(`files of ${m.id}`, false, err.problems.join("; "));
    return book.finish(false);
  }
  book.check(`files of ${m.id}`, true, `${m.files.length} files match the sha256 in the manifest`);
  const dump = path.join(dir, "dump.sql");
  if (into === "in-place") return book.finish(await restoreInPlace(book, stack, store, m, dump));
  return book.finish(await restoreIntoNew(book, stack, m, dump, port));
}

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1024 || n > 65535) throw new UsageError(`--port ${raw}: expected a port 1024–65535`);
  return n;
}

/** Whether 127.0.0.1:port can be listened on now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A port the kernel says is free on 127.0.0.1 now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const backupSize = (m: Manifest) => {
  const bytes = m.files.reduce((n, f) => n + f.bytes, 0);
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
};

/** Where restored instances live, one folder per backup id. */
const restoresDir = (stack: LocalStack) => path.join(stack.layout.root, "restores");

/** What a restored instance records beside its data. */
interface InstanceInfo {
  backupId: string;
  port: number;
  socket: string;
  startedAt: string;
}

async function readInstance(dir: string): Promise<InstanceInfo | null> {
  return fs
    .readFile(path.join(dir, "instance.json"), "utf8")
    .then((t) => JSON.parse(t) as InstanceInfo)
    .catch(() => null);
}

async function listBackups(
  book: Runbook,
  stack: LocalStack,
  store: FsBackupStore,
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
      () => [],
      (err: Error) => (err instanceof CorruptBackupError ? err.problems : [err.message]),
    );
    healthy &&= problems.length === 0;
    const dir = path.join(restoresDir(stack), m.id);
    const info = (await ScratchMariadb.pidIn(dir)) !== null ? await readInstance(dir) : null;
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
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    process.stdout.write(
      `  ${r
        .map((c, i) => c.padEnd(widths[i]))
        .join("  ")
        .trimEnd()}\n`,
    );
  book.check("MariaDB backups", healthy, `${backups.length} listed`);
  return book.finish(healthy);
}

/** Restore `m` into a new instance (or find the one already restored) and verify it against the manifest. */
async function restoreIntoNew(
  book: Runbook,
  stack: LocalStack,
  m: Manifest,
  dump: string,
  wantedPort: number | undefined,
): Promise<boolean> {
  const dir = path.join(restoresDir(stack), m.id);
  let info = (await ScratchMariadb.pidIn(dir)) !== null ? await readInstance(dir) : null;
  if (info) {
    book.check(`restored instance of ${m.id}`, true, `already runs on 127.0.0.1:${info.port}: verifying it again`);
    if (wantedPort !== undefined && wantedPort !== info.port)
      book.check(
        `--port ${wantedPort}`,
        false,
        `the instance already listens on ${info.port}: stop it first to move it`,
      );
  } else {
    if (wantedPort !== undefined && !(await portFree(wantedPort)))
      throw new UsageError(`--port ${wantedPort}: already in use on 127.0.0.1`);
    // A dry run names no port it would not keep: a free one is picked when acting.
    const port = wantedPort ?? (book.options.apply ? await freePort() : undefined);
    const where = `127.0.0.1:${port ?? "(a free port)"}`;
    book.step(`a new MariaDB instance in ${dir} on ${where}`);
    await book.act(`restore ${m.id} into a new MariaDB instance on ${where}`, async () => {
      if (port === undefined) throw new Error("no port"); // unreachable: --apply picked one
      await ScratchMariadb.stopIn(dir); // a stopped instance's leftovers: only ever our own folder
      const socket = unixSocketPath(dir, "s.sock");
      const server = await ScratchMariadb.start({ dir, socket, port, detached: true });
      try {
        await server.sql("", createReadStream(dump));
        const { app } = stack.topology.mysql.users;
        const account = `${sqlString(app.name)}@'127.0.0.1'`;
        // On stdin, never in arguments: the statement holds a password.
        const grant = `CREATE USER ${account} IDENTIFIED BY ${sqlString(app.password)};
          GRANT ALL PRIVILEGES ON \`${m.database}\`.* TO ${account};`;
        await server.sql("", Readable.from([grant]));
        const record: InstanceInfo = { backupId: m.id, port, socket, startedAt: new Date().toISOString() };
        await fs.writeFile(path.join(dir, "instance.json"), JSON.stringify(record, null, 2));
      } catch (err) {
        await server.stop();
        throw err;
      }
    });
    info = await readInstance(dir);
    if (!info) return !book.options.apply;
  }
  const socket = info.socket;
  const sql = (q: string) => ScratchMariadb.sqlOn(socket, q);
  const problems = await tableProblems(sql, m);
  const tables = Object.keys(m.tables ?? {}).length;
  const ok = book.check(
    `instance of ${m.id} matches the manifest`,
    problems.length === 0,
    problems.length ? problems.join("; ") : `${tables} tables: row counts and CHECKSUM TABLE equal`,
  );
  const { app } = stack.topology.mysql.users;
  const out = (l: string) => process.stdout.write(`${l}\n`);
  out(`\nthe restored instance of ${m.id} runs and is left running:`);
  out(`  connect: mariadb --protocol=socket --socket=${socket} -uroot ${m.database}   (as this OS user)`);
  out(
    `       or: mariadb -h 127.0.0.1 -P ${info.port} -u ${app.name} -p ${m.database}   (the topology's app password)`,
  );
  out(`  stop:    npm run runbook -- restore --stop-instance ${m.id} --apply --state-dir ${stack.layout.root}`);
  return ok;
}

/** Stop one restored instance (or all) and delete its folder; nothing to do when none is there. */
async function stopInstances(book: Runbook, stack: LocalStack, which: string): Promise<number> {
  if (which !== "all" && (which.includes("/") || which.startsWith(".")))
    throw new UsageError(`--stop-instance ${which}: not a backup id`);
  const root = restoresDir(stack);
  const names = which === "all" ? (await fs.readdir(root).catch(() => [])).filter((n) => !n.startsWith(".")) : [which];
  let healthy = true;
  for (const id of names) {
    const dir = path.join(root, id);
    const exists = await fs.stat(dir).then(
      () => true,
      () => false,
    );
    if (!exists) {
      book.check(`restored instance ${id}`, true, "none: nothing to stop");
      continue;
    }
    const pid = await ScratchMariadb.pidIn(dir);
    const info = await readInstance(dir);
    book.step(`restored instance ${id}: ${pid ? `pid ${pid}, 127.0.0.1:${info?.port ?? "?"}` : "not running"}`);
    const done = await book.act(`stop the restored instance ${id} and delete ${dir}`, async () => {
      if (!(await ScratchMariadb.stopIn(dir))) throw new Error(`mariadbd ${pid} did not exit within 30 s`);
    });
    healthy &&= done || !book.options.apply;
  }
  if (names.length === 0) book.check("restored instances", true, "none: nothing to stop");
  return book.finish(healthy);
}

/** A MariaDB server of the stack, reached as root over its socket. */
interface Server {
  name: string;
  socket: string;
}

/** The stack's servers by what they are now: the primary replicates from nobody (after a failover too). */
async function serverRoles(stack: LocalStack): Promise<{ primary: Server; replicas: Server[] }> {
  const all = await Promise.all(
    Object.entries(mysqlSockets(stack)).map(async ([name, socket]) => {
      const status = await replicaStatus(socket).catch((err: Error) => {
        throw new Error(`${name} does not answer: ${err.message.split("\n")[0]}`);
      });
      return { name, socket, replica: Object.keys(status).length > 0 };
    }),
  );
  const primaries = all.filter((s) => !s.replica);
  if (primaries.length !== 1)
    throw new Error(`expected one primary, found ${primaries.map((s) => s.name).join(", ") || "none"}`);
  return { primary: primaries[0], replicas: all.filter((s) => s.replica) };
}

/** Row count and CHECKSUM TABLE of every base table of `db` on a server, by table. */
async function tableStatsOn(socket: string, db: string): Promise<Map<string, { rows: number; checksum: string }>> {
  const names = (
    await rootSql(
      socket,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = ${sqlString(db)} AND table_type = 'BASE TABLE' ORDER BY table_name`,
    )
  )
    .split("\n")
    .filter(Boolean);
  const out = new Map<string, { rows: number; checksum: string }>();
  for (const t of names) {
    const ident = `\`${db}\`.\`${t.replace(/`/g, "``")}\``;
    const [rows, checksumLine] = (await rootSql(socket, `SELECT COUNT(*) FROM ${ident}; CHECKSUM TABLE ${ident};`))
      .trim()
      .split("\n");
    out.set(t, { rows: Number(rows), checksum: checksumLine?.split("\t")[1] ?? "" });
  }
  return out;
}

/** Transactions in `want` after `have`, summed over domains. */
function transactionsAfter(have: GtidPos, want: GtidPos): number {
  let n = 0;
  for (const [domain, w] of want) n += Math.max(0, w.seq - (have.get(domain)?.seq ?? 0));
  return n;
}

const gtidPos = async (socket: string) => (await rootSql(socket, "SELECT @@global.gtid_binlog_pos")).trim();

/** Wait until `replica` has applied `pos`; false after `timeoutSeconds`. */
async function caughtUp(replica: Server, pos: string, timeoutSeconds: number): Promise<boolean> {
  const r = await rootSql(replica.socket, `SELECT MASTER_GTID_WAIT(${sqlString(pos)}, ${timeoutSeconds})`);
  return r.trim() === "0";
}

/** What the server holds that differs from the manifest: row counts, checksums, and tables the backup lacks. */
async function differences(socket: string, m: Manifest): Promise<string[]> {
  const problems = await tableProblems((q) => rootSql(socket, q), m);
  const now = await tableStatsOn(socket, m.database!);
  for (const t of now.keys()) if (!(t in (m.tables ?? {}))) problems.push(`${t}: not in the backup`);
  return problems;
}

/**
 * Replace the primary's database with backup `m`: print what would be lost, then (with --apply and
 * confirmation) fence writes, take a safety backup, reload, verify everywhere, flush the cache, unfence.
 */
async function restoreInPlace(
  book: Runbook,
  stack: LocalStack,
  store: FsBackupStore,
  m: Manifest,
  dump: string,
): Promise<boolean> {
  const db = m.database!;
  book.step("the stack's MariaDB servers");
  let roles: { primary: Server; replicas: Server[] };
  try {
    roles = await serverRoles(stack);
  } catch (err) {
    return book.check("MariaDB servers", false, (err as Error).message);
  }
  const { primary, replicas } = roles;
  book.check("primary", true, `${primary.name}; replicas: ${replicas.map((r) => r.name).join(", ") || "none"}`);

  // Plan: exactly what would be lost.
  const backupPos = parseGtidPos(m.gtid ?? "");
  const nowText = await gtidPos(primary.socket);
  const nowPos = parseGtidPos(nowText);
  const foreign = missingFrom(nowPos, backupPos);
  if (foreign.length)
    return book.check(
      `backup ${m.id} comes from this history`,
      false,
      `it holds ${foreign.join(", ")}, which ${primary.name} never committed: refusing to restore it in place`,
    );
  const lost = missingFrom(backupPos, nowPos);
  const count = transactionsAfter(backupPos, nowPos);
  const current = await tableStatsOn(primary.socket, db);
  const out = (l: string) => process.stdout.write(`${l}\n`);
  out(`\nrestoring ${m.id} in place loses everything ${primary.name} committed after it:`);
  out(`  the backup is at GTID ${m.gtid} (${m.createdAt}); ${primary.name} is at ${nowText}`);
  out(
    lost.length
      ? `  ${count} transactions after the backup: ${lost.join(", ")}`
      : "  no transaction after the backup: nothing committed since is lost",
  );
  const tables = [...new Set([...current.keys(), ...Object.keys(m.tables ?? {})])].sort();
  for (const t of tables) {
    const now = current.get(t);
    const then = m.tables?.[t];
    if (now && !then) out(`  ${t}: ${now.rows} rows now, not in the backup: dropped`);
    else if (!now && then) out(`  ${t}: missing now, restored with ${then.rows} rows`);
    else if (now && then && (now.rows !== then.rows || now.checksum !== then.checksum))
      out(`  ${t}: ${now.rows} rows now, ${then.rows} in the backup (contents differ)`);
  }
  out("  and anything committed before the primary is made read-only: the safety backup keeps all of it\n");

  let healthy = true;
  const ran = await book.act(
    `replace database ${db} on ${primary.name} with ${m.id}, losing ${count} transactions committed after ${m.createdAt}`,
    async () => {
      healthy = await replace(book, stack, store, m, dump, primary, replicas);
    },
  );
  return book.options.apply ? ran && healthy : true;
}

/** The --apply part of an in-place restore; false when a replica did not come out equal to the backup. */
async function replace(
  book: Runbook,
  stack: LocalStack,
  store: FsBackupStore,
  m: Manifest,
  dump: string,
  primary: Server,
  replicas: Server[],
): Promise<boolean> {
  const db = m.database!;
  // A copy, checked again: the safety backup's retention could remove an old backup's folder.
  const copy = path.join(restoresDir(stack), `.in-place-${m.id}.sql`);
  await fs.mkdir(restoresDir(stack), { recursive: true });
  await fs.copyFile(dump, copy);
  const expected = m.files.find((f) => f.name === "dump.sql")?.sha256;
  if ((await sha256File(copy)) !== expected) throw new Error(`${copy}: sha256 differs from the manifest`);
  const readOnly = (on: boolean) => rootSql(primary.socket, `SET GLOBAL read_only = ${on ? "ON" : "OFF"}`);
  let replaced = false;
  try {
    await readOnly(true);
    book.check(`${primary.name} read-only`, true, "the services' writes fail until the restore is done");
    const fence = await gtidPos(primary.socket);
    for (const r of replicas)
      if (!(await caughtUp(r, fence, 120))) throw new Error(`${r.name} did not reach ${fence} within 120 s`);
    book.step("a safety backup of the database as it is now, through the backup service");
    const safety = await safetyBackup(stack, store);
    const missing = missingFrom(parseGtidPos(safety.gtid ?? ""), parseGtidPos(fence));
    if (missing.length) throw new Error(`safety backup ${safety.id} lacks ${missing.join(", ")}`);
    book.check(
      "safety backup",
      true,
      `${safety.id} at GTID ${safety.gtid}: what this restore drops (npm run runbook -- restore ${safety.id} --into in-place brings it back)`,
    );

    book.step(`dropping ${db} on ${primary.name} and loading ${m.id} (binlogged: the replicas replay it)`);
    replaced = true;
    await rootSql(primary.socket, `DROP DATABASE IF EXISTS \`${db}\``);
    await exec("mariadb", ["--no-defaults", "--protocol=socket", `--socket=${primary.socket}`, "-uroot", "--batch"], {
      input: createReadStream(copy),
    });
    const onPrimary = await differences(primary.socket, m);
    if (onPrimary.length) throw new Error(`${primary.name} differs from ${m.id}: ${onPrimary.join("; ")}`);
    const tables = `${Object.keys(m.tables ?? {}).length} tables: row counts and CHECKSUM TABLE equal`;
    book.check(`${primary.name} matches ${m.id}`, true, tables);
  } catch (err) {
    if (replaced)
      book.check(
        `${primary.name} left read-only`,
        false,
        `${db} may be half restored; restore ${m.id} again, or the safety backup, before making it writable (SET GLOBAL read_only = OFF)`,
      );
    else {
      const reopened = await readOnly(false).then(
        () => "nothing was replaced",
        (e: Error) => `SET GLOBAL read_only = OFF failed too: ${e.message}`,
      );
      book.check(`${primary.name} writable again`, reopened === "nothing was replaced", reopened);
    }
    throw err;
  } finally {
    await fs.rm(copy, { force: true });
  }

  let healthy = true;
  const restoredAt = await gtidPos(primary.socket);
  for (const r of replicas) {
    if (!(await caughtUp(r, restoredAt, 300))) {
      healthy = book.check(`${r.name} caught up`, false, `not at ${restoredAt} within 300 s`) && healthy;
      continue;
    }
    const problems = await differences(r.socket, m);
    const detail = problems.length ? problems.join("; ") : `at ${restoredAt}, every table equal to the manifest`;
    healthy = book.check(`${r.name} matches ${m.id}`, problems.length === 0, detail) && healthy;
  }
  // Last, once the replicas the loaders read from hold the restored rows: nothing older refills it.
  book.step("flushing the API's Redis cache: it holds values read after the backup");
  const cluster = adminCluster(stack);
  try {
    const { unlinked } = await flushNamespaces(cluster, Object.keys(NAMESPACES));
    const l1 = `in-process (L1) copies expire within CACHE_L1_TTL_MS = ${stack.topology.api.cache.l1TtlMs} ms`;
    book.check("API cache flushed", true, `${unlinked} Redis entries unlinked; ${l1}`);
  } catch (err) {
    healthy = book.check("API cache flushed", false, `${(err as Error).message}: run cache --flush --apply`) && healthy;
  } finally {
    cluster.disconnect();
  }
  await readOnly(false);
  book.check(
    `${primary.name} writable again`,
    true,
    "flash-sale reservations in Redis stay: the reconciler re-publishes those whose order the restore dropped",
  );
  return healthy;
}

/** Take a MariaDB backup now with the backup service's own code and settings (as backup-now does). */
async function safetyBackup(stack: LocalStack, store: FsBackupStore): Promise<Manifest> {
  const env = localBackupEnv({ ...stack, bindHost: "127.0.0.1" } as unknown as StackContext);
  const before = new Set((await store.list("mysql")).map((b) => b.id));
  await promisify(execFile)(process.execPath, ["--import", "tsx", "services/src/main/backup.ts", "--once", "mysql"], {
    cwd: path.resolve(__dirname, ".."),
    env: { ...process.env, ...env },
    timeout: 600_000,
  });
  const made = (await store.list("mysql")).find((b) => !before.has(b.id));
  if (!made) throw new Error("the backup service finished but no new MariaDB backup is listed");
  return made;
}
