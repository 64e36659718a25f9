/**
 * mysql-failover: when the stack's MariaDB primary is down, promote a replica, put it at the
 * primary's address, and rebuild the old primary as a replica of it.
 *
 * MariaDB addresses belong to roles: mysql-primary listens on the primary port (local) or is the
 * container named mysql-primary (Docker), mysql-replica-N likewise. Moving the promoted server's
 * data into the primary's place (lib/failover-data.ts: its data directory, or its Docker volume)
 * points that address at it without changing anything the Pulumi program or the stack configured:
 * the app, the workers, the exporters and the backups keep their configuration and reconnect; no
 * process of the app is restarted.
 *
 * Refuses to promote a replica that lacks a transaction the old primary's binary log committed
 * (read from its data directory with mariadb-binlog): that would lose it. Idempotent: with the
 * primary up it checks every replica follows it and rebuilds one that does not.
 */
import { spinner } from "zx";
import { renderReplicaSetupSql } from "../infra/render";
import { hostPort } from "../infra/topology";
import { failoverData } from "./lib/failover-data";
import { formatGtidPos, missingFrom, parseGtidPos } from "./lib/gtid";
import { COMMON_HELP, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";
import { waitUntil } from "./lib/shell";
import { openStack, type RunbookStack } from "./lib/stack";

const HELP = `usage: npm run runbook -- mysql-failover [--replica mysql-replica-N] [options]

When the primary (mysql-primary) does not answer:
  1. the replica (--replica, default the first one serving) applies everything it received;
  2. its position is compared with the last transaction the old primary's binary log committed;
     if it lacks any, the runbook refuses (promoting it would lose them: restart the old primary
     instead, see runbooks/MysqlDown.md);
  3. promote it (STOP SLAVE, RESET SLAVE ALL) and move its data to the primary's address, and the
     old primary's data to the replica's (the app reconnects; nothing of the app restarts);
  4. start the old primary as a replica of the new one and wait until it has caught up.
When the primary answers: checks that it is writable and every replica follows it, and rebuilds a
replica that is down or follows nothing (so a second run after a failover finds nothing to do).
On Docker and Kubernetes the data moves between the servers' volumes (Docker volumes or
PersistentVolumeClaims, mounted by one-shot containers or pods from the app image); containers,
StatefulSets and volumes stay as the Pulumi program made them. On Kubernetes both claims must be
attachable to one node (runbooks/MysqlDown.md).

${COMMON_HELP}`;

const PRIMARY = "mysql-primary";

/** True when the server answers. */
const serving = (stack: RunbookStack, name: string): Promise<boolean> =>
  stack.mysql.sql(name, "SELECT 1").then(
    (out) => out.trim() === "1",
    () => false,
  );

/** One value from SQL. */
const scalar = async (stack: RunbookStack, name: string, sql: string) => (await stack.mysql.sql(name, sql)).trim();

export async function main(argv: string[]): Promise<number> {
  const { options, values, help } = parseRunbookArgs(argv, { replica: { type: "string" } });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const stack = openStack(options);
  const data = failoverData(stack);
  if (!data)
    throw new UsageError(
      `--target ${options.target}: no way to move MariaDB data on this target (runbooks/MysqlDown.md)`,
    );
  const replicas = stack.mysql.names.filter((n) => n !== PRIMARY);
  const chosen = values.replica as string | undefined;
  if (chosen !== undefined && !replicas.includes(chosen))
    throw new UsageError(`--replica ${chosen}: not a replica of this stack (${replicas.join(", ") || "none"})`);
  const book = new Runbook("mysql-failover", options);
  const primaryAddress = hostPort(stack.addresses.mysqlPrimary);
  const waitServing = (name: string) =>
    spinner(`waiting for ${name} to answer`, () =>
      waitUntil(name, () => serving(stack, name), { timeoutMs: 120_000, intervalMs: 250 }),
    );
  /** Wait (up to 60 s) until `name` has applied `pos`: MASTER_GTID_WAIT's answer, 0 when it has. */
  const gtidWait = (name: string, pos: string) =>
    spinner(`waiting for ${name} to apply ${pos}`, async () =>
      (await stack.mysql.sql(name, `SELECT MASTER_GTID_WAIT('${pos}', 60)`, 70_000)).trim(),
    );

  book.step(`${PRIMARY} (${primaryAddress}): does it answer?`);
  if (!(await serving(stack, PRIMARY))) {
    book.check(`${PRIMARY} answers`, false, `no answer at ${primaryAddress}`);
    const candidates = chosen ? [chosen] : replicas;
    let candidate: string | undefined;
    for (const name of candidates) if (await serving(stack, name)) candidate ??= name;
    if (!candidate) {
      book.check("a replica to promote", false, `none of ${candidates.join(", ")} answers`);
      return book.finish(false);
    }
    book.step(`${candidate}: apply every transaction it received from the old primary`);
    const received = (await stack.mysql.replicaStatus(candidate)).Gtid_IO_Pos ?? "";
    const waited = received ? await gtidWait(candidate, received) : "0";
    if (!book.check(`${candidate} applied what it received`, waited === "0", `received ${received || "(nothing)"}`))
      return book.finish(false);
    const applied = parseGtidPos(await scalar(stack, candidate, "SELECT @@gtid_slave_pos"));

    book.step(`${PRIMARY}: the last transaction its binary log committed (${data.where(PRIMARY)})`);
    let committed;
    try {
      committed = await data.lastCommitted(PRIMARY);
    } catch (err) {
      book.check("old primary's binary log readable", false, (err as Error).message);
      return book.finish(false);
    }
    const missing = missingFrom(applied, committed);
    const complete = book.check(
      `${candidate} holds every committed transaction`,
      missing.length === 0,
      missing.length === 0
        ? `${formatGtidPos(applied)} covers the old primary's ${formatGtidPos(committed)}`
        : `lacks ${missing.join(", ")}: promoting it would lose them; restart the old primary instead (runbooks/MysqlDown.md)`,
    );
    if (!complete) return book.finish(false);

    const promoted = await book.act(`promote ${candidate} (STOP SLAVE; RESET SLAVE ALL)`, async () => {
      await stack.mysql.sql(candidate, "STOP SLAVE; RESET SLAVE ALL;");
    });
    if (!promoted) return book.finish(false);
    const moved = await book.act(
      `move ${candidate}'s data to ${PRIMARY} (${primaryAddress}) and the old primary's data to ${candidate}`,
      async () => {
        await stack.control.stop(candidate);
        await stack.control.stop(PRIMARY);
        await data.swap(PRIMARY, candidate);
        await stack.control.start(PRIMARY);
        await waitServing(PRIMARY);
      },
    );
    if (!moved) return book.finish(false);
  } else {
    book.check(`${PRIMARY} answers`, true);
  }

  // The primary answers: it must be writable, and every replica must follow it.
  const readOnly = await scalar(stack, PRIMARY, "SELECT @@read_only");
  let healthy = book.check(`${PRIMARY} is writable`, readOnly === "0", `read_only = ${readOnly}`);
  for (const name of replicas) {
    book.step(`${name}: does it follow ${PRIMARY}?`);
    if (!(await serving(stack, name))) {
      book.check(`${name} answers`, false, "no answer");
      const started = await book.act(`start ${name}`, async () => {
        await stack.control.start(name);
        await waitServing(name);
      });
      if (!started) {
        healthy = false;
        continue;
      }
    }
    const status = await stack.mysql.replicaStatus(name);
    const follows =
      status.Master_Host === stack.addresses.mysqlPrimary.host &&
      status.Master_Port === String(stack.addresses.mysqlPrimary.port) &&
      status.Slave_IO_Running === "Yes" &&
      status.Slave_SQL_Running === "Yes";
    if (!follows) {
      book.check(
        `${name} replicates from ${PRIMARY}`,
        false,
        Object.keys(status).length === 0
          ? "not a replica (a former primary)"
          : `IO ${status.Slave_IO_Running}, SQL ${status.Slave_SQL_Running} ${status.Last_IO_Error || status.Last_SQL_Error || ""}`.trim(),
      );
      const rebuilt = await book.act(`make ${name} a replica of ${PRIMARY} from its own GTID position`, async () => {
        // A former primary's position is its binary log's; a replica's is what it applied.
        const fresh = Object.keys(status).length === 0;
        if (fresh) await stack.mysql.sql(name, "SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos;");
        await stack.mysql.sql(name, renderReplicaSetupSql(stack.topology, { primary: stack.addresses.mysqlPrimary }));
      });
      if (!rebuilt) {
        healthy = false;
        continue;
      }
    }
    const target = await scalar(stack, PRIMARY, "SELECT @@gtid_binlog_pos");
    const caughtUp = (await gtidWait(name, target)) === "0";
    const after = await stack.mysql.replicaStatus(name);
    healthy =
      book.check(
        `${name} follows ${PRIMARY}`,
        caughtUp && after.Slave_IO_Running === "Yes" && after.Slave_SQL_Running === "Yes",
        `IO ${after.Slave_IO_Running}, SQL ${after.Slave_SQL_Running}, at ${await scalar(stack, name, "SELECT @@gtid_slave_pos")} of ${target}${after.Last_SQL_Error ? `, error: ${after.Last_SQL_Error}` : ""}`,
      ) && healthy;
  }
  return book.finish(healthy);
}
