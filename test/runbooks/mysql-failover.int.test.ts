import { randomUUID } from "node:crypto";
import { replicaStatus, rootSql } from "../../infra/targets/local/components/mysql";
import { isAlive } from "../../infra/targets/local/supervisor";
import { buildUser } from "../support/api";
import { eventually, liveQueue, mysqlSocket, testTopology } from "../stack/clients";
import {
  acceptedOf,
  awaitOutcomes,
  bounded,
  buildBuyers,
  buildSale,
  mysqlView,
  purchase,
  reconciliation,
  stackPid,
  type Buyer,
} from "../flash-sales/support";
import { alertState, runbook, testControl } from "./support";

// Drill (b) on the live test stack: the MariaDB primary is SIGKILLed in the middle of a flash sale.
// Admission goes on in Redis; the workers cannot persist and hold their messages until it is back. MysqlDown fires; on-call runs
// mysql-failover; the workers persist every accepted purchase on the new primary (no order
// committed before the kill is lost, none accepted during it either) and the old primary follows
// the new one as a replica. The stack is left healthy for the tests after this one.

const serving = (socket: string) =>
  rootSql(socket, "SELECT 1").then(
    () => true,
    () => false,
  );

async function storm(saleId: number, buyers: Buyer[], from: number) {
  const answers = await bounded(
    buyers.map((b, i) => () => purchase(saleId, b, randomUUID(), from + i)),
    50,
  );
  return acceptedOf(buyers, answers);
}

describe("drill: the MariaDB primary is killed during a sale", () => {
  afterAll(async () => {
    // Whatever happened above, leave a primary and a following replica for the next tests.
    if (!(await serving(mysqlSocket("mysql-primary")))) await runbook("mysql-failover", "--apply", "--yes");
  }, 240_000);

  it("refuses to promote a replica that lacks a committed transaction, and changes nothing", async () => {
    const { primary, replica } = { primary: mysqlSocket("mysql-primary"), replica: mysqlSocket("mysql-replica-1") };
    await rootSql(replica, "STOP SLAVE IO_THREAD");
    try {
      await buildUser(); // committed on the primary, never received by the replica
      process.kill(stackPid("mysql-primary"), "SIGKILL");
      await eventually(async () => ((await serving(primary)) ? undefined : true), 10_000);
      const refused = await runbook("mysql-failover", "--apply", "--yes");
      expect(refused.out).toMatch(/PROBLEM: mysql-replica-1 holds every committed transaction: lacks 0-(\d+|\*)-\d+/);
      expect(refused.out).not.toMatch(/done\s/);
      expect(refused.code).toBe(1);
      expect(await serving(primary)).toBe(false);
    } finally {
      // What the page says to do instead: restart the old primary; then resume replication.
      await testControl().start("mysql-primary");
      await eventually(async () => ((await serving(primary)) ? true : undefined), 60_000);
      await rootSql(replica, "START SLAVE");
    }
  }, 120_000);

  it("mysql-failover promotes the replica; every accepted order is persisted; the old primary rejoins", async () => {
    const buyers = await buildBuyers(240);
    const saleId = await buildSale({ stock: 200 });

    // Before the fault: 80 purchases, all persisted.
    const before = await storm(saleId, buyers.slice(0, 80), 0);
    expect(before).toHaveLength(80);
    expect((await awaitOutcomes(saleId, before)).every((o) => o.status === "confirmed")).toBe(true);

    // The fault, while the sale goes on: admission needs only Redis, so purchases are still accepted.
    const deadLettersBefore = (await liveQueue("orders.dlq")).messageCount;
    const victim = stackPid("mysql-primary");
    process.kill(victim, "SIGKILL");
    const during = await storm(saleId, buyers.slice(80), 80);
    expect(during).toHaveLength(120); // stock 200: the rest were told sold_out
    expect(isAlive(victim)).toBe(false);
    expect(
      await mysqlView(saleId).then(
        () => "answered",
        () => "refused",
      ),
    ).toBe("refused");

    await eventually(async () => ((await alertState("MysqlDown")) === "firing" ? true : undefined), 90_000, 1000);

    const dry = await runbook("mysql-failover");
    expect(dry.code).toBe(1);
    expect(dry.out).toMatch(/ok: mysql-replica-1 holds every committed transaction/);
    expect(dry.out).toMatch(/would: promote mysql-replica-1/);
    expect(await serving(mysqlSocket("mysql-primary"))).toBe(false); // the dry run changed nothing

    const failover = await runbook("mysql-failover", "--apply", "--yes");
    expect(failover.out).toMatch(/done\s+promote mysql-replica-1/);
    expect(failover.out).toMatch(/done\s+make mysql-replica-1 a replica of mysql-primary/);
    expect(failover.code).toBe(0);

    // The app writes on the new primary: every purchase accepted before and during the outage ends
    // confirmed, exactly the stock is sold, nobody has two, and the ledger agrees with Redis.
    const outcomes = await awaitOutcomes(saleId, [...before, ...during], 120_000);
    expect(outcomes.filter((o) => o.status !== "confirmed")).toEqual([]);
    expect(await mysqlView(saleId)).toEqual({ orders: 200, maxPerUser: 1, remaining: 0 });
    expect(await reconciliation(saleId)).toMatchObject({ drift: 0, mysqlConsistent: true });
    // The workers waited the outage out with the messages in hand: none spent its deliveries.
    expect((await liveQueue("orders.dlq")).messageCount).toBe(deadLettersBefore);
    expect((await buildUser()).token).toBeTruthy(); // an API write (registration + login)

    // The old primary's data now follows the new primary, and holds the sale's orders too.
    const replica = mysqlSocket("mysql-replica-1");
    const status = await replicaStatus(replica);
    expect([status.Slave_IO_Running, status.Slave_SQL_Running]).toEqual(["Yes", "Yes"]);
    const count = `SELECT COUNT(*) FROM ${testTopology().mysql.database}.orders WHERE flash_sale_id = ${saleId}`;
    await eventually(async () => ((await rootSql(replica, count)).trim() === "200" ? true : undefined), 30_000);
    await eventually(async () => ((await alertState("MysqlDown")) === "inactive" ? true : undefined), 90_000, 1000);

    // Idempotent: nothing left to do.
    const again = await runbook("mysql-failover", "--apply", "--yes");
    expect(again.code).toBe(0);
    expect(again.out).not.toMatch(/done\s/);
    expect((await runbook("mysql-replica")).code).toBe(0);
  }, 420_000);

  it("refuses a replica it does not know", async () => {
    const bad = await runbook("mysql-failover", "--replica", "mysql-replica-9");
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--replica mysql-replica-9: not a replica of this stack \(mysql-replica-1\)/);
  });
});
