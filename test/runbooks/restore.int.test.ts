import fs from "node:fs/promises";
import path from "node:path";
import mysql from "mysql2/promise";
import { rootSql } from "../../infra/targets/local/components/mysql";
import { tableStats } from "../../services/src/backup/mysql-backup";
import { ScratchMariadb } from "../../services/src/backup/scratch-mariadb";
import { FsBackupStore, type Manifest } from "../../services/src/backup/store";
import { buildUser, uniqueName } from "../support/api";
import { onPrimary } from "../support/db";
import { mysqlAs, mysqlSocket, testAddresses, testTopology } from "../stack/clients";
import { first } from "../support/checked";
import { testLayout } from "../stack/test-stack";
import { runbook } from "./support";

// restore run as on-call runs it (a child process) against the live test stack: a backup is taken,
// rows change afterwards, and the runbook brings the backup back — into a new instance beside the
// stack, or in place over the primary (which the replica then follows).

const restore = (...args: string[]) => runbook("restore", ...args);
const restoresDir = () => path.join(testLayout().root, "restores");
const store = () => new FsBackupStore(path.join(testLayout().root, "backups"));

/** A user row inserted on the primary, by a name that says when it was written. */
async function insertUser(prefix: string): Promise<string> {
  const username = uniqueName(prefix);
  await onPrimary((conn) => conn.execute("INSERT INTO users (username, password_hash) VALUES (?, 'x')", [username]));
  return username;
}

/** Wait until the replica (the backup's source) has applied everything the primary has. */
async function replicaCaughtUp(): Promise<void> {
  const pos = (await rootSql(mysqlSocket("mysql-primary"), "SELECT @@global.gtid_binlog_pos")).trim();
  expect((await rootSql(mysqlSocket("mysql-replica-1"), `SELECT MASTER_GTID_WAIT('${pos}', 30)`)).trim()).toBe("0");
}

/** Take a MariaDB backup now with backup-now, and return its manifest. */
async function backupNow(): Promise<Manifest> {
  await replicaCaughtUp();
  const taken = await runbook("backup-now", "--kind", "mysql", "--apply", "--yes");
  expect(taken.code).toBe(0);
  return first(await store().list("mysql"), "a MariaDB backup in the store");
}

async function usernames(conn: mysql.Connection, names: string[]): Promise<string[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT username FROM users WHERE username IN (?)", [names]);
  return rows.map((r) => String(r.username)).sort();
}

describe("restore --list", () => {
  it("lists each MariaDB backup with its GTID, size and verified files", async () => {
    const m = await backupNow();
    const listed = await restore("--list");
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(
      new RegExp(`${m.id}\\s+${m.createdAt.replace(/\./g, "\\.")}\\s+${m.gtid}\\s+[\\d.]+ [kM]B\\s+yes \\(sha256\\)`),
    );
  });
});

describe("restore --into new", () => {
  afterAll(async () => {
    // Whatever the test did, no restored instance outlives it.
    for (const id of await fs.readdir(restoresDir()).catch(() => []))
      await ScratchMariadb.stopIn(path.join(restoresDir(), id));
  });

  it("brings up a new instance equal to the manifest, without the rows written after the backup; --stop-instance removes it", async () => {
    const before = await insertUser("before");
    const m = await backupNow();
    const after = await insertUser("after");
    await onPrimary((conn) =>
      conn.execute("UPDATE users SET username = ? WHERE username = ?", [`${before}_x`, before]),
    );

    const dry = await restore("latest", "--into", "new");
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(new RegExp(`would: restore ${m.id} into a new MariaDB instance`));
    await expect(fs.stat(path.join(restoresDir(), m.id))).rejects.toThrow();

    const run = await restore("latest", "--into", "new", "--apply", "--yes");
    expect(run.code).toBe(0);
    expect(run.out).toMatch(new RegExp(`ok: files of ${m.id}: \\d+ files match the sha256`));
    expect(run.out).toMatch(new RegExp(`ok: instance of ${m.id} matches the manifest`));
    const port = Number(/mariadb -h 127\.0\.0\.1 -P (\d+) /.exec(run.out)?.[1]);
    expect(port).toBeGreaterThan(0);

    // Checked from outside the runbook, over TCP as the output says to connect.
    const { app } = testTopology().mysql.users;
    const conn = await mysql.createConnection({
      host: "127.0.0.1",
      port,
      user: app.name,
      password: app.password,
      database: m.database,
    });
    try {
      expect(await tableStats(conn, m.database!)).toEqual(m.tables);
      expect(await usernames(conn, [before, `${before}_x`, after])).toEqual([before]);
    } finally {
      await conn.end();
    }
    // The live stack still has the later rows.
    const live = await mysqlAs("app", testAddresses().mysqlPrimary);
    try {
      expect(await usernames(live, [before, `${before}_x`, after])).toEqual([`${before}_x`, after].sort());
    } finally {
      await live.end();
    }

    const listed = await restore("--list");
    expect(listed.out).toMatch(new RegExp(`${m.id} .*127\\.0\\.0\\.1:${port}`));
    const again = await restore(m.id, "--apply", "--yes");
    expect(again.code).toBe(0);
    expect(again.out).toMatch(new RegExp(`already runs on 127\\.0\\.0\\.1:${port}`));

    const stop = await restore("--stop-instance", m.id, "--apply", "--yes");
    expect(stop.code).toBe(0);
    expect(stop.out).toMatch(new RegExp(`done\\s+stop the restored instance ${m.id}`));
    await expect(fs.stat(path.join(restoresDir(), m.id))).rejects.toThrow();
    await expect(
      mysql.createConnection({ host: "127.0.0.1", port, user: app.name, password: app.password, connectTimeout: 2000 }),
    ).rejects.toThrow();
    const stopAgain = await restore("--stop-instance", m.id, "--apply", "--yes");
    expect(stopAgain.code).toBe(0);
    expect(stopAgain.out).toContain("nothing to stop");
  });

  it("names an unknown backup id and a bad port, exiting 2", async () => {
    const unknown = await restore("mysql-19700101T000000000Z", "--into", "new");
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.out).toContain("unknown backup id mysql-19700101T000000000Z");
    const badPort = await restore("latest", "--port", "80");
    expect(badPort).toMatchObject({ code: 2 });
    expect(badPort.out).toContain("--port 80: expected a port 1024–65535");
    const taken = await restore("latest", "--port", String(testAddresses().mysqlPrimary.port));
    expect(taken).toMatchObject({ code: 2 });
    expect(taken.out).toContain(`--port ${testAddresses().mysqlPrimary.port}: already in use`);
    expect(await restore("latest", "--into", "elsewhere")).toMatchObject({ code: 2 });
  });
});

describe("restore of a corrupt backup", () => {
  const id = "mysql-20000101T000000000Z";
  const dir = () => path.join(store().dir, id);
  afterAll(() => fs.rm(dir(), { recursive: true, force: true }));

  it("lists it as corrupt and refuses to restore it, starting nothing", async () => {
    // A copy of a real backup whose dump lost its last byte after the manifest was written.
    const real = await backupNow();
    await fs.cp(path.join(store().dir, real.id), dir(), { recursive: true });
    await fs.writeFile(
      path.join(dir(), "manifest.json"),
      JSON.stringify({ ...real, id, createdAt: "2000-01-01T00:00:00.000Z" }),
    );
    const dump = path.join(dir(), "dump.sql");
    await fs.truncate(dump, (await fs.stat(dump)).size - 1);

    const listed = await restore("--list");
    expect(listed.code).toBe(1);
    expect(listed.out).toMatch(new RegExp(`${id} .*NO: corrupt`));
    expect(listed.out).toMatch(new RegExp(`${real.id} .*yes \\(sha256\\)`));

    const refused = await restore(id, "--into", "new", "--apply", "--yes");
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(new RegExp(`PROBLEM: files of ${id}: ${id}/dump.sql: sha256 \\w+ ≠ manifest`));
    expect(refused.out).not.toContain("done");
    await expect(fs.stat(path.join(restoresDir(), id))).rejects.toThrow();
  });
});

describe("restore --into in-place", () => {
  it("says what it would lose, then replaces the primary's database; the replica follows; a safety backup holds the lost rows", async () => {
    const before = await insertUser("keep");
    const m = await backupNow();
    const after = await insertUser("lost");

    const dry = await restore(m.id, "--into", "in-place");
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/[1-9]\d* transactions after the backup: 0-\d+-\d+/);
    expect(dry.out).toMatch(/users: \d+ rows now, \d+ in the backup \(contents differ\)/);
    expect(dry.out).toMatch(new RegExp(`would: replace database ${m.database} on mysql-primary with ${m.id}`));
    const untouched = await mysqlAs("app", testAddresses().mysqlPrimary);
    try {
      expect(await usernames(untouched, [before, after])).toEqual([before, after].sort());
    } finally {
      await untouched.end();
    }

    const run = await restore(m.id, "--into", "in-place", "--apply", "--yes");
    expect(run.out).toMatch(new RegExp(`ok: mysql-primary matches ${m.id}`));
    expect(run.out).toMatch(new RegExp(`ok: mysql-replica-1 matches ${m.id}`));
    expect(run.out).toMatch(/ok: mysql-primary writable again/);
    expect(run.code).toBe(0);
    const safetyId = /ok: safety backup: (mysql-\S+)/.exec(run.out)?.[1];
    expect(safetyId).toBeDefined();
    expect(safetyId).not.toBe(m.id);

    // Primary and replica hold the backup: the row written after it is gone, the one before is there.
    for (const server of [testAddresses().mysqlPrimary, first(testAddresses().mysqlReplicas, "a MariaDB replica")]) {
      const conn = await mysqlAs("app", server);
      try {
        expect(await usernames(conn, [before, after])).toEqual([before]);
        // users is written only by sign-ups: nothing in the stack changes it behind the test's back.
        expect((await tableStats(conn, m.database!)).users).toEqual(m.tables!.users);
      } finally {
        await conn.end();
      }
    }
    // What was lost is in the safety backup the summary named.
    const safety = (await store().list("mysql")).find((b) => b.id === safetyId)!;
    expect(await fs.readFile(path.join(store().dir, safety.id, "dump.sql"), "utf8")).toContain(after);
    // Writable again: the API signs a new user up.
    expect((await buildUser()).id).toBeGreaterThan(0);
  });
});
