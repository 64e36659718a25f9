import type amqp from "amqplib";
import { ORDERS_QUEUE } from "../../modules/flash-sales/reconcile";
import { SaleStore } from "../../modules/flash-sales/sale-store";
import { OrderMessageSchema, type OrderMessage } from "../../modules/flash-sales/schema";
import { zip } from "../../platform/checked";
import { isDatabaseUnavailable } from "../../platform/db";
import { QueueSubscription } from "../../tracker/queue-subscription";
import { workerBatchSize, type Consumer, type WorkerContext } from "../runtime";
import { persistOrderBatch, settleOrderBatch } from "./batch-handler";
import { KeyedBatcher } from "./batcher";
import { Deliveries, type Delivery } from "./deliveries";
import { handleOrder } from "./handler";
import { BatchWrites } from "./user-writes";

// A quorum queue may drop acks that arrive just before their channel closes (rabbitmq-server#10327).
const ACK_GRACE_MS = 500;
// Deliveries of one socket read arrive together; a short window gathers the next few reads too.
const BATCH_WINDOW_MS = 2;

type Order = Delivery & { order: OrderMessage };

function parse(message: amqp.ConsumeMessage): OrderMessage | null {
  try {
    const parsed = OrderMessageSchema.safeParse(JSON.parse(message.content.toString("utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Consume `orders` with prefetch = concurrency on its own connection (reconnecting), in batches:
 * what arrives within BATCH_WINDOW_MS of the first waiting message (or a prefetch full) is grouped
 * by sale, and each sale's group is persisted in one transaction (`persistOrderBatch`), one batch
 * per sale at a time, so what arrives during a commit goes in the next. Acks come after the
 * commit; invalid messages go to orders.dlq. While the database is unavailable (down, failing
 * over, read-only) the batch is kept in hand and retried with a backoff: an outage is not the
 * messages' fault and must not spend their deliveries. Any other failure of a batch sends its
 * messages one by one through `handleOrder`, where a message that fails is requeued after a
 * backoff, so the queue's x-delivery-limit dead-letters a poison message (the reconciler
 * re-publishes its reservation) without taking its batch with it.
 */
export async function startOrdersConsumer(ctx: WorkerContext): Promise<Consumer> {
  const p = ctx.platform;
  const store = new SaleStore(p.redis);
  const writes = new BatchWrites(p);
  const book = new Deliveries(ctx.log, (channel) => subscription.isCurrent(channel));
  const warn = (err: unknown, fields: Record<string, unknown>, what: string) =>
    ctx.log.warn({ err: (err as Error).message, ...fields }, what);

  const handleOne = async (d: Order, attempt = 0): Promise<void> => {
    try {
      book.ack(d, await handleOrder(p, store, d.order));
    } catch (err) {
      book.count("retried");
      if (!isDatabaseUnavailable(err)) {
        warn(err, { requestId: d.order.requestId }, "order failed; requeueing");
        return book.requeueLater(d);
      }
      warn(err, { requestId: d.order.requestId }, "database unavailable; retrying");
      const again = await book.hold(attempt);
      if (!book.live(d)) return;
      return again ? handleOne(d, attempt + 1) : book.requeue(d);
    }
  };

  const handleBatch = async (saleId: number, batch: Order[], release: () => void, attempt = 0): Promise<void> => {
    if (attempt === 0) workerBatchSize.observe({ queue: ORDERS_QUEUE }, batch.length);
    const orders = batch.map((d) => d.order);
    try {
      const plan = await persistOrderBatch(p, saleId, orders);
      release(); // committed: the sale's next batch may take the row lock while this one settles
      const outcomes = await settleOrderBatch(p, store, writes, orders, plan);
      for (const [d, outcome] of zip(batch, outcomes, "the batch's messages and outcomes")) book.ack(d, outcome);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) {
        warn(err, { saleId, size: batch.length }, "batch failed; handling its messages one by one");
        await Promise.all(batch.map((d) => handleOne(d)));
        return;
      }
      batch.forEach(() => book.count("retried"));
      warn(err, { saleId, size: batch.length }, "database unavailable; retrying the batch");
      const again = await book.hold(attempt);
      const live = batch.filter((d) => book.live(d));
      if (again && live.length > 0) return handleBatch(saleId, live, release, attempt + 1);
      live.forEach((d) => book.requeue(d));
    }
  };

  const batcher = new KeyedBatcher<number, Order>({ windowMs: BATCH_WINDOW_MS, maxSize: ctx.concurrency }, handleBatch);
  const subscription = new QueueSubscription(ctx.config, ORDERS_QUEUE, ctx.concurrency, ctx.log, (channel, message) => {
    const order = parse(message);
    if (!order) return book.deadLetter({ channel, message });
    batcher.add(order.saleId, { channel, message, order });
  });
  await subscription.start();
  return {
    healthy: () => subscription.consuming,
    async stop() {
      await subscription.cancel(); // no new deliveries after this
      book.handBack(); // messages waiting out a database outage or a backoff go back to the queue
      await batcher.drain(); // finish, commit and ack what is in hand
      book.handBack();
      await new Promise((resolve) => setTimeout(resolve, ACK_GRACE_MS));
      await subscription.close();
    },
  };
}
