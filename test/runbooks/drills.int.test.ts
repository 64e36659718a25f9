import { clusterHealth, redisAdmin } from "../../infra/targets/local/components/redis";
import { rootSql } from "../../infra/targets/local/components/mysql";
import { firstLine } from "../../runbooks/lib/shell";
import { present } from "../support/checked";
import { masterOfKey } from "../support/redis";
import { eventually, mysqlSocket, testAddresses, testTopology } from "../stack/clients";
import { testLayout } from "../stack/test-stack";
import { alertState, runbook, testControl } from "./support";
import { stackPid } from "../flash-sales/support";

// On-call drills on the live test stack: the fault is real, the alert fires in the real Prometheus,
// and the runbook is run as on-call runs it (`npm run runbook -- …`, a child process).

const ctx = () => ({ topology: testTopology(), addresses: testAddresses(), layout: testLayout() });

describe("drill: a replica's SQL thread stops", () => {
  const replica = () => mysqlSocket("mysql-replica-1");
  afterAll(async () => {
    await rootSql(replica(), "START SLAVE"); // idempotent; leaves the stack as found even if the drill failed
  });

  it("fires MysqlReplicationStopped; mysql-replica's dry run changes nothing, --apply fixes it, the alert resolves", async () => {
    await rootSql(replica(), "STOP SLAVE SQL_THREAD");
    await eventually(
      async () => ((await alertState("MysqlReplicationStopped")) === "firing" ? true : undefined),
      90_000,
      1000,
    );

    const dry = await runbook("mysql-replica");
    expect(dry.code).toBe(1);
    expect(dry.out).toMatch(/would\s+START SLAVE on mysql-replica-1/);
    expect(dry.out).toContain("SQL No");

    const fix = await runbook("mysql-replica", "--apply", "--yes");
    expect(fix.out).toMatch(/done\s+START SLAVE on mysql-replica-1/);
    expect(fix.code).toBe(0);
    await eventually(
      async () => ((await alertState("MysqlReplicationStopped")) === "inactive" ? true : undefined),
      60_000,
      1000,
    );

    // Idempotent: a second run finds nothing to do.
    const again = await runbook("mysql-replica", "--apply", "--yes");
    expect(again.code).toBe(0);
    expect(again.out).not.toContain("START SLAVE");
  });
});

describe("drill: a Redis master is killed", () => {
  afterAll(async () => {
    await eventually(async () => ((await clusterHealth(ctx())).ok ? true : undefined), 60_000, 500);
  });

  it("redis-cluster reports the dead node, then healthy once the cluster has recovered and the node rejoined", async () => {
    const victim = await masterOfKey("drill");
    process.kill(stackPid(victim), "SIGKILL");
    const broken = await runbook("redis-cluster");
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(new RegExp(`PROBLEM: ${victim} \\(.*\\): down`));
    const healed = await eventually(
      async () => {
        const r = await runbook("redis-cluster");
        return r.code === 0 ? r : undefined;
      },
      60_000,
      2000,
    );
    expect(healed.out).toMatch(/ok: masters: 3 of 3/);
    expect(healed.out).toMatch(/ok: replicas linked: 3 of 3/);
  });
});

describe("drill: a Redis replica is stopped", () => {
  it("redis-cluster reports it down; --rejoin --apply starts it and every replica is linked again", async () => {
    const nodes = testAddresses().redis.map((address, i) => ({ name: `redis-${i + 1}`, address }));
    const withRoles = await Promise.all(
      nodes.map(async (n) => ({ ...n, role: firstLine(await redisAdmin(ctx(), n.address, ["ROLE"])).trim() })),
    );
    const victim = present(
      withRoles.find((n) => n.role === "slave"),
      "a Redis node that is a replica",
    );
    const control = testControl();
    await control.stop(victim.name);
    try {
      const down = await runbook("redis-cluster");
      expect(down.code).toBe(1);
      expect(down.out).toMatch(new RegExp(`PROBLEM: ${victim.name} \\(.*\\): down`));
      const dry = await runbook("redis-cluster", "--rejoin");
      expect(dry.out).toMatch(new RegExp(`would: start ${victim.name}`));
      const fix = await runbook("redis-cluster", "--rejoin", "--apply", "--yes");
      expect(fix.out).toMatch(new RegExp(`done\\s+start ${victim.name}`));
      expect(fix.out).toMatch(/ok: replicas linked: 3 of 3/);
      expect(fix.code).toBe(0);
    } finally {
      await control.start(victim.name); // a no-op when the runbook did it
    }
  });
});

describe("backup-now", () => {
  it("says what it would do, then takes a MariaDB backup and verifies it with a restore drill", async () => {
    const dry = await runbook("backup-now", "--kind", "mysql", "--drill");
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/would: take a mysql backup/);
    const run = await runbook("backup-now", "--kind", "mysql", "--drill", "--apply", "--yes");
    expect(run.out).toMatch(/done\s+take a mysql backup/);
    expect(run.out).toMatch(/ok: restore drill: RTO [\d.]+ s/);
    expect(run.code).toBe(0);
    expect(await runbook("backup-now", "--kind", "postgres")).toMatchObject({ code: 2 });
  });
});
