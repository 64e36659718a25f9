import { randomUUID } from "node:crypto";
import { clusterHealth } from "../../infra/targets/local/components/redis";
import { masterOfKey } from "../support/redis";
import { eventually, testAddresses, testTopology } from "../stack/clients";
import {
  acceptedOf,
  awaitOutcomes,
  bounded,
  buildBuyers,
  buildSale,
  mysqlView,
  purchase,
  settledReconciliation,
  stackPid,
} from "./support";

const ctx = () => ({ topology: testTopology(), addresses: testAddresses() });

/** A well-behaved client: a 503 means "outcome unknown, retry with the same Idempotency-Key". */
async function purchaseUntilAnswered(saleId: number, buyer: Parameters<typeof purchase>[1], i: number) {
  const key = randomUUID();
  for (let attempt = 0; ; attempt++) {
    const answer = await purchase(saleId, buyer, key, i);
    if (answer.status !== 503 || attempt >= 80) return answer;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("a flash sale while the Redis master holding its slot is killed", () => {
  afterAll(async () => {
    // Leave the cluster as the other tests expect it: the killed node back, every master with a replica.
    await eventually(async () => ((await clusterHealth(ctx())).ok ? true : undefined), 60_000, 500);
  });

  it("never oversells in MySQL, settles every 202, and reconciliation brings Redis back in line", async () => {
    const stock = 100;
    const buyers = await buildBuyers(300);
    const saleId = await buildSale({ stock });
    const victim = await masterOfKey(`{fs:${saleId}}:stock`);

    const killer = new Promise((r) => setTimeout(r, 100)).then(() => process.kill(stackPid(victim), "SIGKILL"));
    // During the failover the API answers 503 (it cannot tell whether the admission ran); the
    // client's retry with the same key then learns the real outcome.
    const answers = await bounded(
      buyers.map((b, i) => () => purchaseUntilAnswered(saleId, b, i)),
      20,
    );
    await killer;
    expect(answers.filter((a) => ![202, 409].includes(a.status))).toEqual([]);
    const accepted = acceptedOf(buyers, answers);
    expect(accepted.length).toBeGreaterThan(0);

    // Every accepted request ends confirmed, or failed with a reason the client can read; none stays unknown.
    const outcomes = await awaitOutcomes(saleId, accepted, 60_000);
    expect(outcomes.filter((o) => o.status !== "confirmed" && !(o.status === "failed" && o.reason))).toEqual([]);

    // Reconciliation repairs whatever the failover lost: Redis agrees with MySQL again.
    const report = await settledReconciliation(saleId);

    const view = await mysqlView(saleId);
    expect(view.orders).toBeLessThanOrEqual(stock);
    expect(view.orders + view.remaining).toBe(stock);
    expect(view.maxPerUser).toBeLessThanOrEqual(1);
    // No order without a 202 the client holds, and every confirmed 202 has its order.
    expect(view.orders).toBe(outcomes.filter((o) => o.status === "confirmed").length);
    expect(report.redisRemaining).toBe(view.remaining);
  });
});
