/**
 * The restore runbook's restored instances: a backup loaded into a new MariaDB beside the stack (its own
 * folder under <state-dir>/restores — on Docker and Kubernetes under the runbooks container's temp
 * folder — 127.0.0.1:PORT and a socket), verified, found again, and stopped.
 */
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { sqlString } from "../../infra/render/mariadb";
import { unixSocketPath } from "../../infra/targets";
import { tableProblems } from "../../services/src/backup/restore-drill";
import { ScratchMariadb } from "../../services/src/backup/scratch-mariadb";
import { freePort, portFree } from "../../services/src/platform/ports";
import type { Manifest } from "../../services/src/backup/store";
import { UsageError, type Runbook } from "./runbook";
import type { RunbookStack } from "./stack";

/**
 * Where restored instances live, one folder per backup id: in the local stack's state folder, or in
 * the runbooks container's temp folder (gone with the container; a restored instance is for a look).
 */
export const restoresDir = (stack: Pick<RunbookStack, "scratchDir">) => path.join(stack.scratchDir, "restores");

/** The runbook's own target options, for the commands it prints. */
const targetArgs = (stack: Pick<RunbookStack, "selfArgs">) => stack.selfArgs.join(" ");

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

/** The restored instance of backup `id` when one runs, else null. */
export async function runningInstance(stack: RunbookStack, id: string): Promise<InstanceInfo | null> {
  const dir = path.join(restoresDir(stack), id);
  return (await ScratchMariadb.pidIn(dir)) !== null ? await readInstance(dir) : null;
}

/** Restore `m` into a new instance (or find the one already restored) and verify it against the manifest. */
export async function restoreIntoNew(
  book: Runbook,
  stack: RunbookStack,
  m: Manifest,
  dump: string,
  wantedPort: number | undefined,
): Promise<boolean> {
  const dir = path.join(restoresDir(stack), m.id);
  let info = await runningInstance(stack, m.id);
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
  out(
    `  connect: mariadb --protocol=socket --socket=${socket} -u ${ScratchMariadb.account} ${m.database}   (as this OS user)`,
  );
  out(
    `       or: mariadb -h 127.0.0.1 -P ${info.port} -u ${app.name} -p ${m.database}   (the topology's app password)`,
  );
  out(`  stop:    npm run runbook -- restore --stop-instance ${m.id} --apply ${targetArgs(stack)}`);
  return ok;
}

/** Stop one restored instance (or all) and delete its folder; nothing to do when none is there. */
export async function stopInstances(book: Runbook, stack: RunbookStack, which: string): Promise<number> {
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
