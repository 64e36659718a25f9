import { randomUUID } from "node:crypto";
import { masterOfKey } from "../../scripts/chaos/faults";
import { localLoadTarget } from "../../scripts/load/target";
import { clusterHealth } from "../../infra/targets/local/components/redis";
import { saleKeys } from "../../services/src/modules/flash-sales/keys";
import { purchaseRequestId } from "../../services/src/modules/flash-sales/request-id";
import { eventually, testAddresses, testTopology } from "../stack/clients";
import { testLayout } from "../stack/test-stack";
import {
  awaitOutcomes,
  bounded,
  buildBuyers,
  buildSale,
  mysqlView,
  orderRequestIds,
  purchase,
  settledReconciliation,
  stackPid,
  stackRedis,
  type Buyer,
} from "./support";
import { at, zip } from "../support/checked";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const target = () => localLoadTarget(testLayout().root);
const nodeIndex = (name: string) => Number(name.split("-")[1]) - 1;
/** Another node than `victim` to ask about the cluster (redis-cli would wait on a frozen one). */
const otherThan = (victim: string) => (nodeIndex(victim) + 1) % testAddresses().redis.length;

type Answer = Awaited<ReturnType<typeof purchase>>;

/** A well-behaved client's retries: a 503 or a dropped connection means "outcome unknown, same key again". */
async function retryUntilAnswered(saleId: number, buyer: Buyer, key: string, i: number): Promise<Answer | null> {
  for (let attempt = 0; attempt < 120; attempt++) {
    const answer = await purchase(saleId, buyer, key, i).catch(() => null);
    if (answer && answer.status !== 503) return answer;
    await sleep(250);
  }
  return null;
}

/**
 * What must hold once every client has its final answer: each key's 202s carry one requestId (the
 * one derived from its sale, user and key), a 202 once sent is never taken back, every order is a
 * request some client holds a 202 for (so one order per key at most), nobody over the limit.
 */
async function expectOneOrderPerKey(
  saleId: number,
  stock: number,
  clients: Array<{ buyer: Buyer; key: string; first: Answer | null; final: Answer | null }>,
) {
  expect(clients.filter((c) => !c.final || ![202, 409].includes(c.final.status)).map((c) => c.final?.status)).toEqual(
    [],
  );
  const accepted = clients.filter((c) => c.final!.status === 202);
  for (const c of accepted) expect(c.final!.body.requestId).toBe(purchaseRequestId(saleId, c.buyer.id, c.key));
  const takenBack = clients.filter(
    (c) => c.first?.status === 202 && c.final!.body.requestId !== c.first.body.requestId,
  );
  expect(takenBack.map((c) => c.key)).toEqual([]);

  const outcomes = await awaitOutcomes(
    saleId,
    accepted.map((c) => ({ buyer: c.buyer, requestId: c.final!.body.requestId! })),
    90_000,
  );
  expect(outcomes.filter((o) => o.status !== "confirmed" && !(o.status === "failed" && o.reason))).toEqual([]);
  const report = await settledReconciliation(saleId, 60_000);
  const orders = await orderRequestIds(saleId);
  const told = new Set(accepted.map((c) => c.final!.body.requestId!));
  expect([...orders.keys()].filter((rid) => !told.has(rid))).toEqual([]);
  expect([...orders.values()].filter((n) => n !== 1)).toEqual([]);
  const view = await mysqlView(saleId);
  expect(view.maxPerUser).toBeLessThanOrEqual(1);
  expect(view.orders + view.remaining).toBe(stock);
  expect(view.orders).toBe(outcomes.filter((o) => o.status === "confirmed").length);
  expect(report.redisRemaining).toBe(view.remaining);
  return { accepted: accepted.length, orders: view.orders };
}

describe("retries across a Redis master failover", () => {
  const redis = stackRedis();
  afterAll(async () => {
    redis.disconnect();
    // Leave the cluster as the other tests expect it: the killed node back, every master with a replica.
    const ctx = { topology: testTopology(), addresses: testAddresses() };
    await eventually(async () => ((await clusterHealth(ctx)).ok ? true : undefined), 90_000, 500);
  });

  it("SIGKILL after admissions whose answers were dropped: each key one order and one requestId", async () => {
    const stock = 80;
    const buyers = await buildBuyers(200);
    const saleId = await buildSale({ stock });
    const victim = await masterOfKey(target(), saleKeys(saleId).stock);
    const keyed = buyers.map((buyer, i) => ({ buyer, key: randomUUID(), i }));

    // First attempts: answered, but the answers never reach the clients (the test keeps them only
    // to check the retries against). The master dies once a fifth have been answered.
    let answered = 0;
    let killed = false;
    const first = await bounded(
      keyed.map(({ buyer, key, i }) => async () => {
        const answer = await purchase(saleId, buyer, key, i).catch(() => null);
        if (++answered === 40) {
          process.kill(stackPid(victim), "SIGKILL");
          killed = true;
        }
        return answer;
      }),
      20,
    );
    expect(killed).toBe(true);
    // Every client retries with its key until it has a definite answer.
    const final = await bounded(
      keyed.map((c) => () => retryUntilAnswered(saleId, c.buyer, c.key, c.i)),
      20,
    );
    const clients = keyed.map(({ buyer, key, i }) => ({
      buyer,
      key,
      first: at(first, i, "a first answer"),
      final: at(final, i, "a final answer"),
    }));
    const counts = await expectOneOrderPerKey(saleId, stock, clients);
    const firstStatuses = first.map((a) => a?.status ?? "dropped");
    process.stdout.write(
      `SIGKILL: first attempts ${JSON.stringify(tally(firstStatuses))}, ${counts.accepted} retries accepted, ` +
        `${counts.orders} orders of ${stock}\n`,
    );
  }, 240_000);

  it("SIGSTOP until a replica takes over: the scripts ioredis re-sends change nothing, a 503 never retried leaves no order", async () => {
    const stock = 40;
    const buyers = await buildBuyers(60);
    const saleId = await buildSale({ stock });
    const k = saleKeys(saleId);
    const victim = await masterOfKey(target(), k.stock);
    const pid = stackPid(victim);
    const keyed = buyers.map((buyer, i) => ({ buyer, key: randomUUID(), i }));
    const [quiet, retrying] = [keyed.slice(0, 30), keyed.slice(30)];

    process.kill(pid, "SIGSTOP");
    let first: Array<Answer | null>;
    try {
      // Sent to a frozen master: every script waits in its socket, every answer is a 503.
      first = await bounded(
        keyed.map((c) => () => purchase(saleId, c.buyer, c.key, c.i).catch(() => null)),
        60,
      );
      await eventually(
        async () => ((await masterOfKey(target(), k.stock, otherThan(victim))) !== victim ? true : undefined),
        30_000,
        250,
      );
    } finally {
      // Thawed: it reads the scripts held in its sockets, answers them (or MOVED, which ioredis
      // follows to the new master) and becomes the new master's replica.
      process.kill(pid, "SIGCONT");
    }
    expect(first.map((a) => a?.status)).toEqual(buyers.map(() => 503));

    const final = await bounded(
      retrying.map((c) => () => retryUntilAnswered(saleId, c.buyer, c.key, c.i)),
      20,
    );
    const clients = zip(retrying, final).map(([{ buyer, key, i }, finalAnswer]) => ({
      buyer,
      key,
      first: at(first, i, "a first answer"),
      final: finalAnswer,
    }));
    // Long enough for the reconciler to publish any reservation without an order (5 s) and more.
    await sleep(8000);
    const counts = await expectOneOrderPerKey(saleId, stock, clients);
    const silent = quiet.map(({ buyer, key }) => purchaseRequestId(saleId, buyer.id, key));
    const orders = await orderRequestIds(saleId);
    expect(silent.filter((rid) => orders.has(rid))).toEqual([]);
    const held = await Promise.all(silent.map((rid) => redis.hexists(k.reservations, rid)));
    expect(held.filter(Boolean)).toEqual([]);
    process.stdout.write(
      `SIGSTOP: ${counts.accepted} of ${retrying.length} retries accepted, ${counts.orders} orders; ` +
        `re-sent scripts dropped on the new master: ${(await redis.hget(k.meta, "staleDropped")) ?? 0}\n`,
    );
  }, 240_000);
});

function tally(values: Array<string | number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}
