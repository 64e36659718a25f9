/**
 * mysql-failover: when the local stack's MariaDB primary is down, promote a replica, put it at the
 * primary's address, and rebuild the old primary as a replica of it.
 *
 * The local stack's MariaDB addresses belong to roles (mysql-primary listens on the primary port,
 * mysql-replica-N on the replica ports), the way the Docker and Kubernetes targets give the primary
 * a service name. Moving the promoted server's data directory into the primary's place is the local
 * equivalent of pointing that name at it: the app, the workers, the exporters and the backups keep
 * their configuration and reconnect; no process of the app is restarted.
 *
 * Refuses to promote a replica that lacks a transaction the old primary's binary log committed
 * (read from its data directory with mariadb-binlog): that would lose it. Idempotent: with the
 * primary up it checks every replica follows it and rebuilds one that does not.
 */
import fs from "node:fs";
import path from "node:path";
import { renderReplicaSetupSql } from "../infra/render";
import { hostPort } from "../infra/topology";
import { mysqlSockets, replicaStatus, rootSql } from "../scripts/stack/components/mysql";
import { waitFor } from "../scripts/stack/wait";
import { formatGtidPos, lastCommittedInBinlog, missingFrom, parseGtidPos } from "./lib/gtid";
import { COMMON_HELP, localStack, parseRunbookArgs, Runbook, UsageError, type LocalStack } from "./lib/runbook";

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
Local stack only for now: on Docker and Kubernetes the primary's name is the container's or
StatefulSet's, which the Pulumi program owns; runbooks/MysqlDown.md says what to do there.

${COMMON_HELP}`;

const PRIMARY = "mysql-primary";

/** True when the server on `socket` answers. */
async function serving(socket: string): Promise<boolean> {
  return rootSql(socket, "SELECT 1").then(
    (out) => out.trim() === "1",
    () => false,
  );
}

/** One value from SQL. */
const scalar = async (socket: string, sql: string) => (await rootSql(socket, sql)).trim();

/**
 * Swap two servers' data directories (both stopped). Binary and relay log index files name their
 * logs by absolute path, so entries under the old folder are rewritten to the new one.
 */
function swapDataDirs(stack: LocalStack, a: string, b: string): void {
  const dirA = path.join(stack.layout.dir(a), "data");
  const dirB = path.join(stack.layout.dir(b), "data");
  const parked = `${dirA}.failover`;
  fs.renameSync(dirA, parked);
  fs.renameSync(dirB, dirA);
  fs.renameSync(parked, dirB);
  const repoint = (dir: string, from: string) => {
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".index"))) {
      const file = path.join(dir, f);
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").split(`${from}/`).join(`${dir}/`));
    }
  };
  repoint(dirA, dirB);
  repoint(dirB, dirA);
}

export async function main(argv: string[]): Promise<number> {
  const { options, values, help } = parseRunbookArgs(argv, { replica: { type: "string" } });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (options.target !== "local")
    throw new UsageError(
      `--target ${options.target}: the failover moves the primary's address by moving data directories on the local stack; on ${options.target} the address belongs to a container or StatefulSet the Pulumi program owns (runbooks/MysqlDown.md, "Docker and Kubernetes")`,
    );
  const stack = localStack(options.stateDir);
  const sockets = mysqlSockets(stack);
  const replicas = Object.keys(sockets).filter((n) => n !== PRIMARY);
  const chosen = values.replica as string | undefined;
  if (chosen !== undefined && !replicas.includes(chosen))
    throw new UsageError(`--replica ${chosen}: not a replica of this stack (${replicas.join(", ") || "none"})`);
  const book = new Runbook("mysql-failover", options);
  const primaryAddress = hostPort(stack.addresses.mysqlPrimary);
  const waitServing = (name: string) =>
    waitFor(name, () => serving(sockets[name]), { timeoutMs: 120_000, intervalMs: 250 });

  book.step(`${PRIMARY} (${primaryAddress}): does it answer?`);
  if (!(await serving(sockets[PRIMARY]))) {
    book.check(`${PRIMARY} answers`, false, `no answer on ${sockets[PRIMARY]}`);
    const candidates = chosen ? [chosen] : replicas;
    let candidate: string | undefined;
    for (const name of candidates) if (await serving(sockets[name])) candidate ??= name;
    if (!candidate) {
      book.check("a replica to promote", false, `none of ${candidates.join(", ")} answers`);
      return book.finish(false);
    }
    const socket = sockets[candidate];
    book.step(`${candidate}: apply every transaction it received from the old primary`);
    const received = (await replicaStatus(socket)).Gtid_IO_Pos ?? "";
    const waited = received ? await scalar(socket, `SELECT MASTER_GTID_WAIT('${received}', 60)`) : "0";
    if (!book.check(`${candidate} applied what it received`, waited === "0", `received ${received || "(nothing)"}`))
      return book.finish(false);
    const applied = parseGtidPos(await scalar(socket, "SELECT @@gtid_slave_pos"));

    book.step(`${PRIMARY}: the last transaction its binary log committed`);
    let committed;
    try {
      committed = await lastCommittedInBinlog(path.join(stack.layout.dir(PRIMARY), "data"));
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
      await rootSql(socket, "STOP SLAVE; RESET SLAVE ALL;");
    });
    if (!promoted) return book.finish(false);
    const moved = await book.act(
      `move ${candidate}'s data to ${PRIMARY} (${primaryAddress}) and the old primary's data to ${candidate}`,
      async () => {
        await stack.control.stop(candidate);
        await stack.control.stop(PRIMARY);
        swapDataDirs(stack, PRIMARY, candidate);
        await stack.control.start(PRIMARY);
        await waitServing(PRIMARY);
      },
    );
    if (!moved) return book.finish(false);
  } else {
    book.check(`${PRIMARY} answers`, true);
  }

  // The primary answers: it must be writable, and every replica must follow it.
  const primarySocket = sockets[PRIMARY];
  const readOnly = await scalar(primarySocket, "SELECT @@read_only");
  let healthy = book.check(`${PRIMARY} is writable`, readOnly === "0", `read_only = ${readOnly}`);
  for (const name of replicas) {
    const socket = sockets[name];
    book.step(`${name}: does it follow ${PRIMARY}?`);
    if (!(await serving(socket))) {
      book.check(`${name} answers`, false, `no answer on ${socket}`);
      const started = await book.act(`start ${name}`, async () => {
        await stack.control.start(name);
        await waitServing(name);
      });
      if (!started) {
        healthy = false;
        continue;
      }
    }
    const status = await replicaStatus(socket);
    const follows =
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
        if (fresh) await rootSql(socket, "SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos;");
        await rootSql(socket, renderReplicaSetupSql(stack.topology, { primary: stack.addresses.mysqlPrimary }));
      });
      if (!rebuilt) {
        healthy = false;
        continue;
      }
    }
    const target = await scalar(primarySocket, "SELECT @@gtid_binlog_pos");
    const caughtUp = (await scalar(socket, `SELECT MASTER_GTID_WAIT('${target}', 60)`)) === "0";
    const after = await replicaStatus(socket);
    healthy =
      book.check(
        `${name} follows ${PRIMARY}`,
        caughtUp && after.Slave_IO_Running === "Yes" && after.Slave_SQL_Running === "Yes",
        `IO ${after.Slave_IO_Running}, SQL ${after.Slave_SQL_Running}, at ${await scalar(socket, "SELECT @@gtid_slave_pos")} of ${target}${after.Last_SQL_Error ? `, error: ${after.Last_SQL_Error}` : ""}`,
      ) && healthy;
  }
  return book.finish(healthy);
}
