import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { Cluster } from "ioredis";
import type { RowDataPacket } from "mysql2";
import { amqpUrl } from "../../infra/targets/local/components/rabbitmq";
import { eventually, testAddresses, testTopology } from "../stack/clients";
import { onPrimary } from "../support/db";
import { counterAt } from "../support/metrics";
import { awaitOutcomes, bounded, buildBuyers, buildSale, mysqlView, purchase, type Buyer } from "./support";
import { at, first, zip } from "../support/checked";

type OrderMessage = { saleId: number; requestId: string; userId: number; seq: number; admittedAtMs: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const orderOf = (saleId: number, buyer: Buyer, requestId: string = randomUUID()): OrderMessage => ({
  saleId,
  requestId,
  userId: buyer.id,
  seq: 1,
  admittedAtMs: Date.now(),
});

/** A confirm channel on the `orders` queue, publishing the way the API does (persistent, confirmed). */
async function ordersPublisher() {
  const connection = await amqp.connect(amqpUrl({ topology: testTopology(), addresses: testAddresses() }, "app"));
  const channel = await connection.createConfirmChannel();
  return {
    publish: (m: OrderMessage) =>
      channel.sendToQueue("orders", Buffer.from(JSON.stringify(m)), { persistent: true, messageId: m.requestId }),
    close: async () => {
      await channel.waitForConfirms();
      await connection.close();
    },
  };
}

/** A metric summed over every orders worker. */
async function workersMetric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = await Promise.all(testAddresses().workers.orders.map((w) => counterAt(w.port, name, labels)));
  return values.reduce((a, b) => a + b, 0);
}

const outcomeCounts = async () => ({
  processed: await workersMetric("floodgate_worker_messages_total", { queue: "orders", outcome: "processed" }),
  duplicate: await workersMetric("floodgate_worker_messages_total", { queue: "orders", outcome: "duplicate" }),
  failed: await workersMetric("floodgate_worker_messages_total", { queue: "orders", outcome: "failed" }),
});

type OutcomeCounts = Awaited<ReturnType<typeof outcomeCounts>>;
const diff = (after: OutcomeCounts, before: OutcomeCounts): OutcomeCounts => ({
  processed: after.processed - before.processed,
  duplicate: after.duplicate - before.duplicate,
  failed: after.failed - before.failed,
});

/** Orders of a sale per request id, and its stock and remaining, straight from the primary. */
async function mysqlLedger(saleId: number) {
  return onPrimary(async (conn) => {
    const [perRequest] = await conn.query<RowDataPacket[]>(
      "SELECT request_id, COUNT(*) AS n FROM orders WHERE flash_sale_id = ? GROUP BY request_id",
      [saleId],
    );
    const [sales] = await conn.query<RowDataPacket[]>("SELECT stock, remaining FROM flash_sales WHERE id = ?", [
      saleId,
    ]);
    const sale = first(sales, `flash sale ${saleId}`);
    return {
      perRequest: new Map(perRequest.map((r) => [String(r.request_id), Number(r.n)])),
      stock: Number(sale.stock),
      remaining: Number(sale.remaining),
    };
  });
}

/** Wait until a sale has `orders` orders, then give stray copies time to land if they were going to. */
async function settled(saleId: number, orders: number) {
  await eventually(async () => ((await mysqlView(saleId)).orders >= orders ? true : undefined), 30_000, 50);
  await sleep(1500);
}

describe("orders worker batching", () => {
  const redis = new Cluster(testAddresses().redis, {
    redisOptions: { username: "app", password: testTopology().redis.users.app.password },
  });
  afterAll(() => redis.disconnect());

  it("makes one order per request when every purchase is sent twice and every message delivered twice", async () => {
    const buyers = await buildBuyers(300);
    const saleId = await buildSale({ stock: 300, perUserLimit: 1 });
    const before = await outcomeCounts();
    const publisher = await ordersPublisher();
    const attempts = buyers.flatMap((buyer, i) => {
      const key = randomUUID();
      return [0, 1].map(() => ({ buyer, key, i }));
    });
    // Each admitted request's message is published again at once: a redelivery racing its original.
    const answers = await bounded(
      attempts.map((a) => async () => {
        const answer = await purchase(saleId, a.buyer, a.key, a.i);
        if (answer.status === 202) publisher.publish(orderOf(saleId, a.buyer, answer.body.requestId));
        return answer;
      }),
      200,
    );
    await publisher.close();

    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    const answered = zip(attempts, answers);
    const requestOf = new Map(answered.map(([a, answer]) => [a.buyer.id, answer.body.requestId!]));
    for (const [a, answer] of answered) expect(answer.body.requestId).toBe(requestOf.get(a.buyer.id));
    await settled(saleId, 300);
    const ledger = await mysqlLedger(saleId);
    expect([...ledger.perRequest.keys()].sort()).toEqual([...requestOf.values()].sort());
    expect([...ledger.perRequest.values()].every((n) => n === 1)).toBe(true);
    expect(ledger.remaining + ledger.perRequest.size).toBe(ledger.stock);
    expect(await mysqlView(saleId)).toEqual({ orders: 300, maxPerUser: 1, remaining: 0 });
    // 300 requests, 900 messages: the API published each once (the second try was a duplicate); we copied each 202.
    const counted = diff(await outcomeCounts(), before);
    expect(counted).toMatchObject({ processed: 300, duplicate: 600, failed: 0 });
    const accepted = buyers.map((buyer) => ({ buyer, requestId: requestOf.get(buyer.id)! }));
    const outcomes = await awaitOutcomes(saleId, accepted);
    expect(outcomes.filter((o) => o.status !== "confirmed")).toEqual([]);
    // Every user of every batch gets read-your-writes for their order, not only one per transaction.
    const gtids = await Promise.all(buyers.map((b) => redis.get(`ryw:{user:${b.id}}`)));
    expect(gtids.filter((g) => !g)).toEqual([]);
  });

  it("never sells more than MySQL's stock when more purchases were admitted than it holds", async () => {
    const buyers = await buildBuyers(60);
    const saleId = await buildSale({ stock: 20, perUserLimit: 1 });
    const before = await outcomeCounts();
    const publisher = await ordersPublisher();
    buyers.forEach((b) => publisher.publish(orderOf(saleId, b)));
    // Ten more requests for seats already claimed (same user, same seq): a lost reservation re-admitted.
    buyers.slice(0, 10).forEach((b) => publisher.publish(orderOf(saleId, b)));
    await publisher.close();

    await settled(saleId, 20);
    expect(await mysqlView(saleId)).toEqual({ orders: 20, maxPerUser: 1, remaining: 0 });
    expect(diff(await outcomeCounts(), before)).toEqual({ processed: 20, duplicate: 0, failed: 50 });
  });

  it("keeps each sale's own count when one batch holds messages of several sales", async () => {
    const stocks = [5, 10, 15];
    const sales = await Promise.all(stocks.map((stock) => buildSale({ stock, perUserLimit: 1 })));
    const buyers = await buildBuyers(12 * sales.length);
    const [before, batchesBefore, batchedBefore] = await Promise.all([
      outcomeCounts(),
      workersMetric("floodgate_worker_batch_size_count"),
      workersMetric("floodgate_worker_batch_size_sum"),
    ]);
    const publisher = await ordersPublisher();
    // Interleaved sales, each message twice in a row: duplicates inside one batch.
    for (let i = 0; i < 12; i++)
      sales.forEach((saleId, s) => {
        const m = orderOf(saleId, at(buyers, i * sales.length + s, "a buyer"));
        publisher.publish(m);
        publisher.publish(m);
      });
    await publisher.close();

    await Promise.all(zip(sales, stocks).map(([saleId, stock]) => settled(saleId, Math.min(stock, 12))));
    const views = await Promise.all(sales.map((saleId) => mysqlView(saleId)));
    expect(views).toEqual([
      { orders: 5, maxPerUser: 1, remaining: 0 },
      { orders: 10, maxPerUser: 1, remaining: 0 },
      { orders: 12, maxPerUser: 1, remaining: 3 },
    ]);
    // 36 requests: 27 orders, each of their copies a duplicate; 9 sold out, their copies too.
    expect(diff(await outcomeCounts(), before)).toEqual({ processed: 27, duplicate: 27, failed: 18 });
    const batches = (await workersMetric("floodgate_worker_batch_size_count")) - batchesBefore;
    const batched = (await workersMetric("floodgate_worker_batch_size_sum")) - batchedBefore;
    expect(batched).toBe(72);
    expect(batches).toBeLessThan(72); // at least one transaction carried several messages
  });
  it("drains a 10,000-message backlog of one sale completely, each order once", async () => {
    const stock = 10_000;
    const buyers = await buildBuyers(stock);
    const saleId = await buildSale({ stock, perUserLimit: 1 });
    const publisher = await ordersPublisher();
    const started = Date.now();
    buyers.forEach((b) => publisher.publish(orderOf(saleId, b)));
    await publisher.close();
    const published = Date.now();

    await eventually(async () => ((await mysqlView(saleId)).orders === stock ? true : undefined), 60_000, 50);
    const drainMs = Date.now() - published;
    const perSecond = Math.round(stock / ((Date.now() - started) / 1000));
    process.stdout.write(
      `  backlog: ${stock} published in ${published - started} ms; drained ${drainMs} ms later (${perSecond} orders/s overall)\n`,
    );
    // How fast is npm run bench's business (its storm scenario reports the drain as a ratio); a
    // timed bound here failed on a loaded 2-core machine for the unchanged code too.
    expect(await mysqlView(saleId)).toEqual({ orders: stock, maxPerUser: 1, remaining: 0 });
  });
});
