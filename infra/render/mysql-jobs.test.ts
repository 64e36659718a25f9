import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ScratchMariadb } from "../../services/src/backup/scratch-mariadb";
import { followsNobody, mysqlJobScript, type MysqlJobSteps } from "./mysql-jobs";
import { freePort } from "../../services/src/platform/ports";

// The MariaDB jobs' shell, run here against a real MariaDB set up as the official image sets it
// up (root@'%' and root@localhost with a password), to rotate the root password in place.

// A port the kernel hands out: a fixed one (34000 + pid % 1000) once landed on a port the test
// stack already held, and the scratch server could not start in CI.
let PORT: number;
const OLD = "old-root-pw-'quoted'\\1";
const NEW = "new-root-pw-'quoted'\\2";

let server: ScratchMariadb;
let dir: string;

function sh(script: string, env: Record<string, string>) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile("sh", ["-c", script], { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 }, (err, out, errOut) =>
      resolve({ code: err ? Number(err.code ?? -1) : 0, output: out + errOut }),
    );
  });
}

/** Whether root logs in over TCP with `password`. */
async function rootLogsIn(password: string): Promise<boolean> {
  const run = await sh(`mariadb --no-defaults -h 127.0.0.1 -P ${PORT} -uroot -e 'SELECT 1'`, { MYSQL_PWD: password });
  return run.code === 0;
}

const steps = (extra: Partial<MysqlJobSteps> = {}): MysqlJobSteps => ({
  server: { host: "127.0.0.1", port: PORT },
  sqlFile: path.join(dir, "bootstrap.sql"),
  applyRootPassword: true,
  credentialsDir: path.join(dir, "credentials"),
  waitSeconds: 6,
  ...extra,
});

beforeAll(async () => {
  PORT = await freePort();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mysql-jobs-"));
  fs.mkdirSync(path.join(dir, "credentials"));
  fs.writeFileSync(path.join(dir, "bootstrap.sql"), "CREATE DATABASE IF NOT EXISTS floodgate;\n");
  server = await ScratchMariadb.start({ port: PORT });
  const old = OLD.replace(/\\/g, "\\\\").replace(/'/g, "''");
  // What MARIADB_ROOT_PASSWORD does on the official image's first start.
  await server.sql(
    `CREATE USER 'root'@'%' IDENTIFIED BY '${old}'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION; ` +
      `ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('${old}');`,
  );
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the MariaDB bootstrap job, rotating the root password", () => {
  it("fails with the reason, instead of waiting forever, when no recorded password works", async () => {
    const run = await sh(mysqlJobScript(steps()), { MYSQL_PWD: NEW });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/root login to 127\.0\.0\.1:\d+ refused with the configured password/);
    expect(await rootLogsIn(OLD)).toBe(true);
  });

  it("logs in with the password it last applied, applies the configured one in place and records it", async () => {
    fs.writeFileSync(path.join(dir, "credentials", "mysql-root"), OLD);
    const run = await sh(mysqlJobScript(steps()), { MYSQL_PWD: NEW });
    expect(run.output).toContain("logged in to 127.0.0.1");
    expect(run.code).toBe(0);
    expect([await rootLogsIn(NEW), await rootLogsIn(OLD)]).toEqual([true, false]);
    expect(fs.readFileSync(path.join(dir, "credentials", "mysql-root"), "utf8")).toBe(NEW);
    expect(fs.readFileSync(path.join(dir, "credentials", "mysql-root.previous"), "utf8")).toBe(OLD);
    expect(run.output).not.toContain(NEW);
    expect(run.output).not.toContain(OLD);
  });

  it("re-runs with the configured password once it is applied", async () => {
    const run = await sh(mysqlJobScript(steps()), { MYSQL_PWD: NEW });
    expect(run).toEqual({ code: 0, output: "root password applied and recorded\n" });
  });

  it("fails, keeping the client's exit code, when the SQL fails", async () => {
    fs.writeFileSync(path.join(dir, "broken.sql"), `ALTER USER nobody IDENTIFIED BY '${NEW}' garbage;\n`);
    const run = await sh(mysqlJobScript(steps({ sqlFile: path.join(dir, "broken.sql") })), { MYSQL_PWD: NEW });
    expect(run.code).toBe(1);
    expect(run.output).toContain("ERROR 1064");
    expect(run.output).not.toContain(NEW);
  });

  it("gives up on a server that never answers", async () => {
    const run = await sh(mysqlJobScript(steps({ server: { host: "127.0.0.1", port: 1 }, waitSeconds: 2 })), {
      MYSQL_PWD: NEW,
    });
    expect(run).toEqual({ code: 1, output: "127.0.0.1:1 did not answer within 2 s\n" });
  });
});

describe("a MariaDB replica's setup job, rotating the replication password", () => {
  it("re-points a replica that already follows a primary, keeping its position, without printing the password", async () => {
    const password = "repl-pw-'quoted'\\3";
    await sh(
      `mariadb --no-defaults -h 127.0.0.1 -P ${PORT} -uroot -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=1, MASTER_USER='before'"`,
      {
        MYSQL_PWD: NEW,
      },
    );
    const script = mysqlJobScript(
      steps({ applyRootPassword: false, onlyIf: "false", otherwiseRepointReplication: true }),
    );
    const run = await sh(script, { MYSQL_PWD: NEW, REPLICATION_USER: "repl'user", REPLICATION_PASSWORD: password });
    expect(run).toEqual({ code: 0, output: "replication credentials re-applied\n" });
    const status = await sh(`mariadb --no-defaults -h 127.0.0.1 -P ${PORT} -uroot -e 'SHOW SLAVE STATUS\\G'`, {
      MYSQL_PWD: NEW,
    });
    expect(status.output).toMatch(/Master_User: repl'user\n/);
    expect(status.output).toMatch(/Master_Port: 1\n/);
    await sh(`mariadb --no-defaults -h 127.0.0.1 -P ${PORT} -uroot -e 'STOP SLAVE; RESET SLAVE ALL'`, {
      MYSQL_PWD: NEW,
    });
  });

  it("tells a replica that follows nobody from one whose status cannot be read", async () => {
    const check = (port: number) =>
      sh(`if ${followsNobody({ host: "127.0.0.1", port })}; then echo yes; else echo no; fi`, { MYSQL_PWD: NEW });
    expect((await check(PORT)).output).toBe("yes\n");
    expect((await check(1)).output).toContain("no\n");
  });
});
