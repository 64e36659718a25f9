import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import type { RowDataPacket } from "mysql2";
import { rootSql } from "../../infra/targets/local/components/mysql";
import { amqpUrl } from "../../infra/targets/local/components/rabbitmq";
import { isAlive } from "../../infra/targets/local/supervisor";
import { workerName } from "../../infra/topology";
import { eventually, liveQueue, mysqlSocket, testAddresses, testTopology } from "../stack/clients";
import { onPrimary } from "../support/db";
import { counterAt } from "../support/metrics";
import { masterOfKey } from "../support/redis";
import { first } from "../support/checked";
import { awaitOutcome, buildBuyers, buildSale, mysqlView, purchase, stackPid } from "./support";

const stack = () => ({ topology: testTopology(), addresses: testAddresses() });
const workerNames = () => testAddresses().workers.orders.map((_, i) => workerName("orders", i));

/** One orders-worker counter summed over every worker (null while one is not answering). */
async function ordersCounter(outcome: string): Promise<number | null> {
  const values = await Promise.all(
    testAddresses().workers.orders.map((w) =>
      counterAt(w.port, "floodgate_worker_messages_total", { queue: "orders", outcome }).catch(() => null),
    ),
  );
  return values.includes(null) ? null : values.reduce((a, b) => a! + b!, 0);
}

/**
 * A fault injected in the real database, the way libfiu would in a write call: a trigger that
 * refuses every order of one sale (the worker sees an ordinary MySQL error). Returns the remover.
 */
async function refuseOrdersOf(saleId: number): Promise<() => Promise<void>> {
  // As root over the socket: with binary logging on, creating a trigger needs SUPER.
  const primary = mysqlSocket("mysql-primary");
  const name = `fault_orders_${Number(saleId)}`;
  const db = testTopology().mysql.database;
  // The mariadb client splits statements at ";": the trigger body needs another delimiter.
  await rootSql(
    primary,
    `DELIMITER //
     CREATE TRIGGER ${db}.${name} BEFORE INSERT ON ${db}.orders FOR EACH ROW
     IF NEW.flash_sale_id = ${Number(saleId)} THEN
       SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected fault';
     END IF //`,
  );
  return () => rootSql(primary, `DROP TRIGGER IF EXISTS ${db}.${name}`).then(() => undefined);
}

/** One admitted purchase through the API; returns its buyer and request id. */
async function admittedPurchase(saleId: number) {
  const [buyer] = await buildBuyers(1);
  const answer = await purchase(saleId, buyer);
  expect(answer.status).toBe(202);
  return { buyer, requestId: answer.body.requestId! };
}

async function workersBackUp(oldPids: number[]) {
  await eventually(
    async () =>
      workerNames().every((name, i) => stackPid(name) !== oldPids[i]) && (await ordersCounter("processed")) !== null
        ? true
        : undefined,
    30_000,
  );
}

describe("orders workers under injected faults", () => {
  it("makes no second order when the worker is SIGKILLed after its commit and before its ack", async () => {
    const [buyer] = await buildBuyers(1);
    const saleId = await buildSale({ stock: 5 });
    const message = { saleId, requestId: randomUUID(), userId: buyer.id, seq: 1, admittedAtMs: Date.now() };
    // Freeze the Redis master holding the sale: after its commit the worker records the outcome
    // there before it acks, so the ack waits out the command timeout — a window after the commit.
    const redisPid = stackPid(await masterOfKey(`{fs:${saleId}}:stock`));
    const workerPids = workerNames().map(stackPid);
    process.kill(redisPid, "SIGSTOP");
    try {
      const connection = await amqp.connect(amqpUrl(stack(), "app"));
      try {
        const channel = await connection.createConfirmChannel();
        channel.sendToQueue("orders", Buffer.from(JSON.stringify(message)), {
          persistent: true,
          messageId: message.requestId,
        });
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
      // The moment the order is committed, kill every orders worker: whichever holds the message dies unacked.
      await eventually(async () => ((await mysqlView(saleId)).orders === 1 ? true : undefined), 5000, 5);
      workerPids.forEach((pid) => process.kill(pid, "SIGKILL"));
    } finally {
      process.kill(redisPid, "SIGCONT");
    }
    await eventually(async () => (workerPids.every((pid) => !isAlive(pid)) ? true : undefined), 5000, 20);

    // The broker redelivers the unacked message to a restarted worker, which finds the order made.
    await workersBackUp(workerPids);
    await eventually(
      // The restarted workers count from zero: one duplicate is the redelivery finding the order.
      async () => ((await ordersCounter("duplicate")) ?? 0) > 0 || undefined,
      30_000,
      200,
    );
    expect(await mysqlView(saleId)).toEqual({ orders: 1, maxPerUser: 1, remaining: 4 });
  });

  it("retries a transient MySQL failure with backoff until the order lands", async () => {
    const saleId = await buildSale({ stock: 3 });
    const retriedBefore = (await ordersCounter("retried"))!;
    const heal = await refuseOrdersOf(saleId);
    let accepted;
    try {
      accepted = await admittedPurchase(saleId);
      // At least two failed attempts, spaced by the backoff, before the fault clears.
      await eventually(async () => ((await ordersCounter("retried"))! >= retriedBefore + 2 ? true : undefined), 10_000);
      expect((await mysqlView(saleId)).orders).toBe(0);
    } finally {
      await heal();
    }
    const outcome = await awaitOutcome(saleId, accepted, 20_000);
    expect(outcome.status).toBe("confirmed");
    expect(await mysqlView(saleId)).toEqual({ orders: 1, maxPerUser: 1, remaining: 2 });
  });

  it("dead-letters a message that keeps failing past the delivery limit, and the reconciler re-publishes it", async () => {
    const saleId = await buildSale({ stock: 3 });
    const dlqBefore = (await liveQueue("orders.dlq")).messageCount;
    const heal = await refuseOrdersOf(saleId);
    let accepted;
    try {
      accepted = await admittedPurchase(saleId);
      // deliveryLimit (5) attempts with backoff 250 ms … 4 s, then the dead-letter exchange takes it.
      await eventually(
        async () => ((await liveQueue("orders.dlq")).messageCount > dlqBefore ? true : undefined),
        30_000,
        250,
      );
      const [rows] = await onPrimary((conn) =>
        conn.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM orders WHERE request_id = ?", [accepted!.requestId]),
      );
      expect(Number(first(rows, "the order count").n)).toBe(0);
    } finally {
      await heal();
    }
    // The reservation is still pending in Redis: reconciliation re-publishes it and it lands, once.
    const outcome = await awaitOutcome(saleId, accepted, 30_000);
    expect(outcome.status).toBe("confirmed");
    expect(await mysqlView(saleId)).toEqual({ orders: 1, maxPerUser: 1, remaining: 2 });
  });
});
