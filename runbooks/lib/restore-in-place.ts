/**
 * The restore runbook's in-place restore: replace the database on the stack's primary with a backup
 * (replicated to every replica) after printing what is lost — the writes after the backup, kept in a
 * safety backup taken first — with the primary read-only meanwhile, then verified everywhere.
 */
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { sqlString } from "../../infra/render/mariadb";
import { tableProblems } from "../../services/src/backup/restore-drill";
import { sha256File, type BackupStore, type Manifest } from "../../services/src/backup/store";
import { adminCluster, CACHE_NAMESPACES, flushNamespaces } from "./cache-store";
import { missingFrom, parseGtidPos, type GtidPos } from "./gtid";
import { restoresDir } from "./restored-instances";
import type { Runbook } from "./runbook";
import { command, firstLine } from "./shell";
import { runServiceOnce, type RunbookStack } from "./stack";

/** SQL on one server as the stack's all-privileges account; tab-separated rows. */
type Sql = (sql: string, timeoutMs?: number) => Promise<string>;

/** A MariaDB server of the stack. */
interface Server {
  name: string;
  sql: Sql;
}

/** The stack's servers by what they are now: the primary replicates from nobody (after a failover too). */
async function serverRoles(stack: RunbookStack): Promise<{ primary: Server; replicas: Server[] }> {
  const all = await Promise.all(
    stack.mysql.names.map(async (name) => {
      const status = await stack.mysql.replicaStatus(name).catch((err: Error) => {
        throw new Error(`${name} does not answer: ${firstLine(err.message)}`);
      });
      const sql: Sql = (q, timeoutMs) => stack.mysql.sql(name, q, timeoutMs);
      return { name, sql, replica: Object.keys(status).length > 0 };
    }),
  );
  const primaries = all.filter((s) => !s.replica);
  const [primary] = primaries;
  if (primary === undefined || primaries.length !== 1)
    throw new Error(`expected one primary, found ${primaries.map((s) => s.name).join(", ") || "none"}`);
  return { primary, replicas: all.filter((s) => s.replica) };
}

/** Row count and CHECKSUM TABLE of every base table of `db` on a server, by table. */
async function tableStatsOn(sql: Sql, db: string): Promise<Map<string, { rows: number; checksum: string }>> {
  const names = (
    await sql(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = ${sqlString(db)} AND table_type = 'BASE TABLE' ORDER BY table_name`,
    )
  )
    .split("\n")
    .filter(Boolean);
  const out = new Map<string, { rows: number; checksum: string }>();
  for (const t of names) {
    const ident = `\`${db}\`.\`${t.replace(/`/g, "``")}\``;
    const [rows, checksumLine] = (await sql(`SELECT COUNT(*) FROM ${ident}; CHECKSUM TABLE ${ident};`))
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

const gtidPos = async (sql: Sql) => (await sql("SELECT @@global.gtid_binlog_pos")).trim();

/** Wait until `replica` has applied `pos`; false after `timeoutSeconds`. */
async function caughtUp(replica: Server, pos: string, timeoutSeconds: number): Promise<boolean> {
  const r = await replica.sql(
    `SELECT MASTER_GTID_WAIT(${sqlString(pos)}, ${timeoutSeconds})`,
    (timeoutSeconds + 10) * 1000,
  );
  return r.trim() === "0";
}

/** What the server holds that differs from the manifest: row counts, checksums, and tables the backup lacks. */
async function differences(sql: Sql, m: Manifest): Promise<string[]> {
  const problems = await tableProblems((q) => sql(q), m);
  const now = await tableStatsOn(sql, m.database!);
  for (const t of now.keys()) if (!(t in (m.tables ?? {}))) problems.push(`${t}: not in the backup`);
  return problems;
}

/**
 * Replace the primary's database with backup `m`: print what would be lost, then (with --apply and
 * confirmation) fence writes, take a safety backup, reload, verify everywhere, flush the cache, unfence.
 */
export async function restoreInPlace(
  book: Runbook,
  stack: RunbookStack,
  store: BackupStore,
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
  const nowText = await gtidPos(primary.sql);
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
  const current = await tableStatsOn(primary.sql, db);
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
  stack: RunbookStack,
  store: BackupStore,
  m: Manifest,
  dump: string,
  primary: Server,
  replicas: Server[],
): Promise<boolean> {
  const db = m.database!;
  // A copy, checked again: the safety backup's retention could remove an old backup's folder.
  const work = restoresDir(stack);
  const copy = path.join(work, `.in-place-${m.id}.sql`);
  await fs.mkdir(work, { recursive: true });
  await fs.copyFile(dump, copy);
  const expected = m.files.find((f) => f.name === "dump.sql")?.sha256;
  if ((await sha256File(copy)) !== expected) throw new Error(`${copy}: sha256 differs from the manifest`);
  const readOnly = (on: boolean) => primary.sql(`SET GLOBAL read_only = ${on ? "ON" : "OFF"}`);
  let replaced = false;
  try {
    await readOnly(true);
    book.check(`${primary.name} read-only`, true, "the services' writes fail until the restore is done");
    const fence = await gtidPos(primary.sql);
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
    await primary.sql(`DROP DATABASE IF EXISTS \`${db}\``);
    const access = stack.mysql.server(primary.name);
    await command("mariadb", ["--no-defaults", ...access.args, "--batch"], {
      input: createReadStream(copy),
      env: access.env,
      timeoutMs: 600_000,
    });
    const onPrimary = await differences(primary.sql, m);
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
  const restoredAt = await gtidPos(primary.sql);
  for (const r of replicas) {
    if (!(await caughtUp(r, restoredAt, 300))) {
      healthy = book.check(`${r.name} caught up`, false, `not at ${restoredAt} within 300 s`) && healthy;
      continue;
    }
    const problems = await differences(r.sql, m);
    const detail = problems.length ? problems.join("; ") : `at ${restoredAt}, every table equal to the manifest`;
    healthy = book.check(`${r.name} matches ${m.id}`, problems.length === 0, detail) && healthy;
  }
  // Last, once the replicas the loaders read from hold the restored rows: nothing older refills it.
  book.step("flushing the API's Redis cache: it holds values read after the backup");
  const cluster = adminCluster(stack);
  try {
    const { unlinked } = await flushNamespaces(cluster, [...CACHE_NAMESPACES]);
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
async function safetyBackup(stack: RunbookStack, store: BackupStore): Promise<Manifest> {
  const before = new Set((await store.list("mysql")).map((b) => b.id));
  await runServiceOnce("backup", ["--once", "mysql"], stack.backupEnv);
  const made = (await store.list("mysql")).find((b) => !before.has(b.id));
  if (!made) throw new Error("the backup service finished but no new MariaDB backup is listed");
  return made;
}
