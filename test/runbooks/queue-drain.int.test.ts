import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { amqpUrl } from "../../infra/targets/local/components/rabbitmq";
import {
  acceptedOf,
  awaitOutcomes,
  bounded,
  buildBuyers,
  buildSale,
  mysqlView,
  purchase,
  reconciliation,
} from "../flash-sales/support";
import { eventually, liveQueue, testAddresses, testTopology } from "../stack/clients";
import { alertState, runbook, testControl } from "./support";

// queue-drain run as on-call runs it (a child process) against the live test stack: dead letters are
// purged or replayed, and drill (d): every orders worker stopped during a sale, the backlog alert
// fires, queue-drain --start-workers brings the workers back and the backlog drains.

const stack = () => ({ topology: testTopology(), addresses: testAddresses() });
const queueDrain = (...args: string[]) => runbook("queue-drain", ...args);

/** Publish raw messages to a queue with publisher confirms. */
async function publish(queue: string, bodies: unknown[]): Promise<void> {
  const connection = await amqp.connect(amqpUrl(stack(), "app"));
  try {
    const channel = await connection.createConfirmChannel();
    for (const body of bodies)
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(body)), { persistent: true, messageId: randomUUID() });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/** Run queue-drain (dry run) until its output matches, e.g. once the management API has caught up. */
const drainSays = (pattern: RegExp, ...args: string[]) =>
  eventually(
    async () => {
      const r = await queueDrain(...args);
      return pattern.test(r.out) ? r : undefined;
    },
    30_000,
    1000,
  );

describe("queue-drain", () => {
  it("reports a dead letter, leaves it on a dry run and purges it with --purge-dlq --apply --yes", async () => {
    await publish("orders.dlq", [{ drill: "queue-drain" }]);
    const seen = await drainSays(/PROBLEM: dead letters orders\.dlq: [1-9]\d* messages/);
    expect(seen.code).toBe(1);
    expect(seen.out).toMatch(/ok: queue orders: \d+ ready, \d+ unacked, [1-9]\d* consumers/);

    const dry = await queueDrain("--purge-dlq");
    expect(dry.code).toBe(1);
    expect(dry.out).toMatch(/would: purge [1-9]\d* messages from orders\.dlq/);

    const fix = await queueDrain("--purge-dlq", "--apply", "--yes");
    expect(fix.out).toMatch(/done\s+purge [1-9]\d* messages from orders\.dlq/);
    expect(fix.code).toBe(0);

    const after = await drainSays(/ok: dead letters orders\.dlq: 0 messages/);
    expect(after.code).toBe(0);
  });

  it("replays a valid orders dead letter into exactly one order and keeps an invalid one", async () => {
    const [buyer] = await buildBuyers(1);
    const saleId = await buildSale({ stock: 5 });
    const valid = { saleId, requestId: randomUUID(), userId: buyer.id, seq: 1, admittedAtMs: Date.now() };
    await publish("orders.dlq", [valid, { drill: "not an order" }]);
    await drainSays(/PROBLEM: dead letters orders\.dlq: 2 messages/);

    const dry = await queueDrain("--replay-dlq");
    expect(dry.code).toBe(1);
    expect(dry.out).toMatch(/would: replay the messages of orders\.dlq into orders/);
    expect((await liveQueue("orders.dlq")).messageCount).toBe(2);

    const replay = await queueDrain("--replay-dlq", "--apply", "--yes");
    expect(replay.out).toMatch(/done\s+replay the messages of orders\.dlq into orders/);
    expect(replay.out).toMatch(/PROBLEM: replayed orders\.dlq: 1 replayed into orders, 1 kept/);
    expect(replay.code).toBe(1); // the invalid message is still a dead letter
    expect((await liveQueue("orders.dlq")).messageCount).toBe(1);

    // The worker makes the order; once nothing is left in `orders`, nothing can make a second one.
    await eventually(async () => ((await mysqlView(saleId)).orders === 1 ? true : undefined), 30_000);
    await drainSays(/ok: queue orders: 0 ready, 0 unacked/);
    expect(await mysqlView(saleId)).toEqual({ orders: 1, maxPerUser: 1, remaining: 4 });

    // What is left is the invalid message: purging it leaves the stack healthy.
    const purge = await queueDrain("--purge-dlq", "--apply", "--yes");
    expect(purge.out).toMatch(/done\s+purge [1-9]\d* messages from orders\.dlq/);
    expect((await liveQueue("orders.dlq")).messageCount).toBe(0);
    expect((await drainSays(/ok: dead letters orders\.dlq: 0 messages/)).code).toBe(0);
  });

  it("refuses to replay tracking dead letters and leaves them where they are", async () => {
    await publish("tracking.dlq", [{ drill: "queue-drain" }]);
    await drainSays(/PROBLEM: dead letters tracking\.dlq: [1-9]\d* messages/);

    const refused = await queueDrain("--replay-dlq", "--apply", "--yes");
    expect(refused.out).toMatch(/PROBLEM: replay tracking\.dlq: refused: the tracker remembers counted event ids/);
    expect(refused.out).not.toMatch(/done\s+replay/);
    expect(refused.code).toBe(1);
    expect((await liveQueue("tracking.dlq")).messageCount).toBe(1);

    expect((await queueDrain("--purge-dlq", "--apply", "--yes")).code).toBe(0);
    expect((await liveQueue("tracking.dlq")).messageCount).toBe(0);
  });

  it("refuses --purge-dlq with --replay-dlq and a bad --max-backlog with exit code 2", async () => {
    const both = await queueDrain("--purge-dlq", "--replay-dlq", "--apply", "--yes");
    expect(both.code).toBe(2);
    expect(both.out).toContain("--purge-dlq and --replay-dlq together");
    const bad = await queueDrain("--max-backlog", "lots");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("--max-backlog lots: expected a whole number ≥ 0");
  });
});

describe("drill: every orders worker is stopped during a sale", () => {
  const STOCK = 1200; // RabbitmqQueueBacklog fires above 1000 ready messages
  let workers: string[] = [];

  beforeAll(async () => {
    workers = (await testControl().list()).map((p) => p.name).filter((n) => /^worker-orders-\d+$/.test(n));
  });

  afterAll(async () => {
    // Whatever happened above, the next test files need every orders worker consuming.
    for (const name of workers) await testControl().start(name);
    await eventually(
      async () => ((await liveQueue("orders")).consumerCount >= workers.length ? true : undefined),
      60_000,
      500,
    );
  }, 90_000);

  it("fires RabbitmqQueueBacklog; queue-drain --start-workers drains it and every accepted purchase is persisted", async () => {
    expect(workers.length).toBeGreaterThan(0);
    const buyers = await buildBuyers(STOCK);
    const saleId = await buildSale({ stock: STOCK });

    // The fault: on-call (or a bad deploy) stopped every orders worker.
    for (const name of workers) await testControl().stop(name);
    await eventually(async () => ((await liveQueue("orders")).consumerCount === 0 ? true : undefined), 30_000);

    // The sale goes on: admission needs Redis and RabbitMQ only, so every unit is accepted and waits.
    const answers = await bounded(
      buyers.map((b, i) => () => purchase(saleId, b, randomUUID(), i)),
      50,
    );
    const accepted = acceptedOf(buyers, answers);
    expect(accepted).toHaveLength(STOCK);
    expect((await liveQueue("orders")).messageCount).toBeGreaterThan(1000);

    await eventually(
      async () => ((await alertState("RabbitmqQueueBacklog")) === "firing" ? true : undefined),
      120_000,
      1000,
    );
    expect(await alertState("WorkersNoConsumers")).toBe("firing");

    const inspect = await queueDrain();
    expect(inspect.code).toBe(1);
    expect(inspect.out).toMatch(/PROBLEM: queue orders: \d{4,} ready, \d+ unacked, 0 consumers/);
    expect(inspect.out).toMatch(/PROBLEM: workers of orders: 0 of \d+ running, stopped: worker-orders-1/);

    const dry = await queueDrain("--start-workers");
    expect(dry.code).toBe(1);
    for (const name of workers) expect(dry.out).toContain(`would: start ${name} (run again with --apply)`);
    expect((await testControl().list()).filter((p) => workers.includes(p.name) && p.running)).toEqual([]);

    const fix = await queueDrain("--start-workers", "--apply", "--yes");
    for (const name of workers) expect(fix.out).toMatch(new RegExp(`done\\s+start ${name}\\b`));
    expect(fix.out).toMatch(/ok: queue orders consumed again: \d+ ready, [1-9]\d* consumers/);
    expect(fix.code).toBe(0);

    // Drained: every accepted purchase confirmed, exactly the stock sold, nobody twice, no drift.
    const outcomes = await awaitOutcomes(saleId, accepted, 120_000);
    expect(outcomes.filter((o) => o.status !== "confirmed")).toEqual([]);
    expect(await mysqlView(saleId)).toEqual({ orders: STOCK, maxPerUser: 1, remaining: 0 });
    expect(await reconciliation(saleId)).toMatchObject({ drift: 0, pending: 0, mysqlConsistent: true });
    await eventually(async () => ((await liveQueue("orders")).messageCount === 0 ? true : undefined), 30_000);
    for (const alert of ["RabbitmqQueueBacklog", "WorkersNoConsumers"])
      await eventually(async () => ((await alertState(alert)) === "inactive" ? true : undefined), 90_000, 1000);

    // Idempotent: the workers run, so a second run starts nothing.
    const again = await queueDrain("--start-workers", "--apply", "--yes");
    expect(again.out).not.toMatch(/done\s/);
    if (again.code !== 0) throw new Error(`the second run exited ${again.code}:\n${again.out}`);
  }, 480_000);
});
