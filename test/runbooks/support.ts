import { randomBytes } from "node:crypto";
import { $ } from "zx";
import { hostPort } from "../../infra/topology";
import { rootSql } from "../../infra/targets/local/components/mysql";
import { StackControl } from "../../infra/targets/local/control";
import { readState } from "../../infra/targets/local/state";
import { stackPid } from "../flash-sales/support";
import { eventually, mysqlSocket, testAddresses } from "../stack/clients";
import { repoRoot, testLayout } from "../stack/test-stack";

/** Run a runbook as on-call runs it (`npm run runbook -- NAME …`, a child process) against the test stack. */
export async function runbook(...args: string[]): Promise<{ code: number; out: string }> {
  const r = await $({ cwd: repoRoot, timeout: 180_000, quiet: true, nothrow: true })`npm run --silent runbook -- ${[
    ...args,
    "--state-dir",
    testLayout().root,
  ]}`;
  const code = r.exitCode ?? -1; // null: killed after its 180 s
  return { code, out: code === 0 ? r.stdout : `${r.stdout}${r.stderr}` };
}

/** An alert's state in the test stack's Prometheus: inactive, pending or firing. */
export async function alertState(name: string): Promise<string> {
  const res = await fetch(`http://${hostPort(testAddresses().prometheus)}/api/v1/alerts`);
  const body = (await res.json()) as { data: { alerts: Array<{ labels: { alertname: string }; state: string }> } };
  return body.data.alerts.find((a) => a.labels.alertname === name)?.state ?? "inactive";
}

/** The test stack owner's control socket: stop or start one of its processes by name. */
export const testControl = () => new StackControl(readState(testLayout().stateFile)!.controlSocket!);

const primarySocket = () => mysqlSocket("mysql-primary");

/**
 * A MariaDB account like the one the Docker and Kubernetes programs give the runbooks (root over
 * TCP): the local stack's root is socket-only, so a test creates one like it (binlogged: the
 * replicas get it too) and drops it after.
 */
export function tcpAdmin(user: string) {
  const account = { user, password: randomBytes(12).toString("hex") };
  return {
    account,
    create: () =>
      rootSql(
        primarySocket(),
        `CREATE USER IF NOT EXISTS '${user}'@'127.0.0.1' IDENTIFIED BY '${account.password}';
         GRANT ALL PRIVILEGES ON *.* TO '${user}'@'127.0.0.1' WITH GRANT OPTION;`,
      ),
    drop: () => rootSql(primarySocket(), `DROP USER IF EXISTS '${user}'@'127.0.0.1'`),
  };
}

/**
 * The failover drill on a deployed target: 100 rows of a probe database reach mysql-replica-1,
 * `fault` takes the primary down for good (SIGKILL, and whatever keeps the platform from bringing it
 * back), `run` (the target's runbook) fails over with --apply --yes, and then the primary's address
 * serves the promoted server, writable with every row, the old primary follows it, and a second run
 * does nothing. Returns the failover's output for the target's own checks.
 */
export async function failoverDrill(
  run: (...args: string[]) => Promise<{ code: number; out: string }>,
  probe: string,
  fault: () => Promise<void> | void = () => undefined,
): Promise<string> {
  const count = async (name: string) =>
    Number((await rootSql(mysqlSocket(name), `SELECT COUNT(*) FROM ${probe}.t`)).trim());
  await rootSql(
    mysqlSocket("mysql-primary"),
    `CREATE DATABASE IF NOT EXISTS ${probe}; CREATE TABLE IF NOT EXISTS ${probe}.t (id INT PRIMARY KEY);
     USE ${probe}; DELETE FROM t; INSERT INTO t SELECT seq FROM seq_1_to_100;`,
  );
  try {
    await eventually(async () => ((await count("mysql-replica-1")) === 100 ? true : undefined), 30_000);
    await fault();
    process.kill(stackPid("mysql-primary"), "SIGKILL");
    await eventually(
      async () => ((await testControl().list()).find((p) => p.name === "mysql-primary")?.running ? undefined : true),
      30_000,
    );

    const fix = await run("mysql-failover", "--apply", "--yes");
    if (fix.code !== 0) throw new Error(`mysql-failover exited ${fix.code}:\n${fix.out}`);
    expect(fix.out).toMatch(/ok: mysql-replica-1 holds every committed transaction/);
    expect(fix.out).toMatch(/done\s+promote mysql-replica-1/);
    expect(fix.out).toMatch(/done\s+move mysql-replica-1's data to mysql-primary/);
    expect(fix.out).toMatch(/ok: mysql-replica-1 follows mysql-primary/);

    // The promoted server serves at the primary's address, writable, with every row; the old
    // primary follows it and gets new writes.
    expect((await rootSql(mysqlSocket("mysql-primary"), "SELECT @@read_only")).trim()).toBe("0");
    await rootSql(mysqlSocket("mysql-primary"), `INSERT INTO ${probe}.t VALUES (101)`);
    expect(await count("mysql-primary")).toBe(101);
    await eventually(async () => ((await count("mysql-replica-1")) === 101 ? true : undefined), 30_000);

    const again = await run("mysql-failover", "--apply", "--yes");
    expect(again.out).not.toMatch(/done\s/);
    if (again.code !== 0) throw new Error(`the second run exited ${again.code}:\n${again.out}`);
    return fix.out;
  } finally {
    await rootSql(mysqlSocket("mysql-primary"), `DROP DATABASE IF EXISTS ${probe}`).catch(() => undefined);
  }
}
