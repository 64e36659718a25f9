import type amqp from "amqplib";
import { ORDERS_QUEUE } from "../../modules/flash-sales/reconcile";
import type { Logger } from "../../platform/log";
import { workerLag, workerMessages } from "../runtime";

/** One `orders` delivery and the channel it must be settled on (delivery tags are per channel). */
export interface Delivery {
  channel: amqp.Channel;
  message: amqp.ConsumeMessage;
}

/** The backoff before a message goes back to the queue (or a held batch is retried): doubling from 250 ms, at most 5 s. */
export const retryDelayMs = (deliveries: number): number => Math.min(250 * 2 ** deliveries, 5000);

/**
 * Settles `orders` deliveries with their metrics and keeps track of the ones waiting: held through a
 * database outage, or due back in the queue after a backoff. `handBack` returns those to the queue.
 */
export class Deliveries {
  private readonly waiting = new Map<NodeJS.Timeout, () => void>();
  private stopping = false;

  constructor(
    private readonly log: Logger,
    private readonly isCurrent: (channel: amqp.Channel) => boolean,
  ) {}

  /** Count one message under `outcome`. */
  count(outcome: string): void {
    workerMessages.inc({ queue: ORDERS_QUEUE, outcome });
  }

  /** Ack after the commit, with its outcome and its lag. */
  ack(d: Delivery, outcome: string): void {
    this.settle(() => d.channel.ack(d.message));
    this.count(outcome);
    const enqueuedSeconds = d.message.properties.timestamp as number | undefined;
    if (enqueuedSeconds) workerLag.observe({ queue: ORDERS_QUEUE }, Date.now() / 1000 - enqueuedSeconds);
  }

  /** An invalid message: straight to orders.dlq. */
  deadLetter(d: Delivery): void {
    this.count("dead_lettered");
    this.settle(() => d.channel.nack(d.message, false, false));
  }

  /** Back to the queue now. */
  requeue(d: Delivery): void {
    this.settle(() => d.channel.nack(d.message, false, true));
  }

  /** Back to the queue after a backoff growing with its deliveries: x-delivery-limit stops a poison message. */
  requeueLater(d: Delivery): void {
    const deliveries = Number(d.message.properties.headers?.["x-delivery-count"] ?? 0);
    const timer = setTimeout(() => {
      this.waiting.delete(timer);
      this.requeue(d);
    }, retryDelayMs(deliveries));
    this.waiting.set(timer, () => this.requeue(d));
  }

  /** Wait out a database outage before attempt `attempt + 1`: false when stopping (hand it back instead). */
  hold(attempt: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.stopping) return resolve(false);
      const timer = setTimeout(() => {
        this.waiting.delete(timer);
        resolve(true);
      }, retryDelayMs(attempt));
      this.waiting.set(timer, () => resolve(false));
    });
  }

  /** False once its channel is gone (RabbitMQ restarted): the broker has requeued it already. */
  live(d: Delivery): boolean {
    return this.isCurrent(d.channel);
  }

  /** Stop holding: whatever waits goes back to the queue now, and so will later holds. */
  handBack(): void {
    this.stopping = true;
    for (const [timer, giveBack] of this.waiting) {
      clearTimeout(timer);
      this.waiting.delete(timer);
      giveBack();
    }
  }

  private settle(op: () => void): void {
    try {
      op();
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "could not settle; the broker redelivers the message");
    }
  }
}
