import type amqp from "amqplib";
import { ORDERS_QUEUE } from "../../modules/flash-sales/reconcile";
import { SaleStore } from "../../modules/flash-sales/sale-store";
import { OrderMessageSchema } from "../../modules/flash-sales/schema";
import { isDatabaseUnavailable } from "../../platform/db";
import { QueueSubscription } from "../../tracker/queue-subscription";
import { workerLag, workerMessages, type Consumer, type WorkerContext } from "../runtime";
import { handleOrder } from "./handler";

// A quorum queue may drop acks that arrive just before their channel closes (rabbitmq-server#10327).
const ACK_GRACE_MS = 500;
const retryDelayMs = (deliveries: number) => Math.min(250 * 2 ** deliveries, 5000);

function parse(message: amqp.ConsumeMessage) {
  try {
    return OrderMessageSchema.safeParse(JSON.parse(message.content.toString("utf8")));
  } catch {
    return null;
  }
}

/**
 * Consume `orders` with prefetch = concurrency on its own connection (reconnecting): ack only after
 * the commit; invalid messages to orders.dlq. While the database is unavailable (down, failing over,
 * read-only) the message is kept in hand and retried with a backoff: an outage is not the message's
 * fault and must not spend its deliveries. Any other failure is requeued after a backoff, so the
 * queue's x-delivery-limit dead-letters a poison message (the reconciler re-publishes its reservation).
 */
export async function startOrdersConsumer(ctx: WorkerContext): Promise<Consumer> {
  const store = new SaleStore(ctx.platform.redis);
  const inFlight = new Set<Promise<void>>();
  const delayed = new Map<NodeJS.Timeout, () => void>();
  let stopping = false;
  const count = (outcome: string) => workerMessages.inc({ queue: ORDERS_QUEUE, outcome });
  const settle = (op: () => void) => {
    try {
      op();
    } catch (err) {
      ctx.log.debug({ err: (err as Error).message }, "could not settle; the broker redelivers the message");
    }
  };

  const handle = async (channel: amqp.Channel, message: amqp.ConsumeMessage, attempt = 0): Promise<void> => {
    const parsed = parse(message);
    if (!parsed?.success) {
      count("dead_lettered");
      return settle(() => channel.nack(message, false, false));
    }
    try {
      const outcome = await handleOrder(ctx.platform, store, parsed.data);
      settle(() => channel.ack(message));
      count(outcome);
      if (message.properties.timestamp)
        workerLag.observe({ queue: ORDERS_QUEUE }, Date.now() / 1000 - message.properties.timestamp);
    } catch (err) {
      count("retried");
      if (isDatabaseUnavailable(err)) {
        ctx.log.warn(
          { err: (err as Error).message, requestId: parsed.data.requestId },
          "database unavailable; retrying",
        );
        const again = await new Promise<boolean>((resolve) => {
          if (stopping) return resolve(false);
          const timer = setTimeout(() => {
            delayed.delete(timer);
            resolve(true);
          }, retryDelayMs(attempt));
          delayed.set(timer, () => resolve(false)); // stopping: hand it back instead
        });
        // Its channel gone (RabbitMQ restarted), the broker has requeued it already: let it go.
        if (!subscription.isCurrent(channel)) return;
        if (again) return handle(channel, message, attempt + 1);
        return settle(() => channel.nack(message, false, true));
      }
      ctx.log.warn({ err: (err as Error).message, requestId: parsed.data.requestId }, "order failed; requeueing");
      const deliveries = Number(message.properties.headers?.["x-delivery-count"] ?? 0);
      const requeue = () => settle(() => channel.nack(message, false, true));
      const timer = setTimeout(() => {
        delayed.delete(timer);
        requeue();
      }, retryDelayMs(deliveries));
      delayed.set(timer, requeue);
    }
  };

  const subscription = new QueueSubscription(ctx.config, ORDERS_QUEUE, ctx.concurrency, ctx.log, (channel, message) => {
    const job = handle(channel, message).finally(() => inFlight.delete(job));
    inFlight.add(job);
  });
  await subscription.start();
  return {
    healthy: () => subscription.consuming,
    async stop() {
      stopping = true;
      await subscription.cancel(); // no new deliveries after this
      const handBack = () => {
        for (const [timer, requeue] of delayed) {
          clearTimeout(timer);
          delayed.delete(timer);
          requeue();
        }
      };
      handBack(); // messages waiting out a database outage go back to the queue
      await Promise.allSettled([...inFlight]); // finish, commit and ack what is in hand
      handBack();
      await new Promise((resolve) => setTimeout(resolve, ACK_GRACE_MS));
      await subscription.close();
    },
  };
}
