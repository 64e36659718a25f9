import type amqp from "amqplib";
import type { ServiceConfig } from "../platform/config";
import type { Logger } from "../platform/log";
import { TRACKING_QUEUE, TrackingEventSchema } from "../platform/tracking";
import { RecentIds, StatsBatch } from "./aggregate";
import { eventsConsumed, eventsDuplicate, eventsFlushed, eventsInvalid, eventsPending, flushDuration } from "./metrics";
import { QueueSubscription } from "./queue-subscription";
import type { TrackingStatsRepository } from "./repository";

const ACK_GRACE_MS = 500;

/** A message and the channel it must be settled on (delivery tags are per channel). */
interface Delivery {
  channel: amqp.Channel;
  message: amqp.ConsumeMessage;
}

/** Consumer tunables. */
export interface ConsumerOptions {
  prefetch: number;
  flushIntervalMs: number;
}

/**
 * Consumes the tracking queue: invalid messages are dead-lettered, valid ones aggregated in memory
 * and flushed to tracking_stats every flushIntervalMs (or when `prefetch` messages wait), acked
 * only after the commit — at-least-once. A crash between commit and ack redelivers the batch; ids
 * committed in the last minutes are recognised (RecentIds) and not counted twice, but that window
 * lives in memory, so a process crash in that gap can still double-count one flush.
 */
export class TrackingConsumer {
  private readonly subscription: QueueSubscription;
  private batch = new StatsBatch<Delivery>();
  private inFlight: StatsBatch<Delivery> | null = null;
  private flushing: Promise<void> | null = null;
  private readonly recent = new RecentIds();
  private closed = false;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    config: ServiceConfig,
    private readonly repo: TrackingStatsRepository,
    private readonly log: Logger,
    private readonly opts: ConsumerOptions = { prefetch: 200, flushIntervalMs: 1000 },
  ) {
    this.subscription = new QueueSubscription(config, TRACKING_QUEUE, opts.prefetch, log, (channel, message) =>
      this.receive(channel, message),
    );
  }

  /** True while a channel is consuming. */
  get consuming(): boolean {
    return this.subscription.consuming;
  }

  /** Start consuming (reconnecting with backoff) and flushing. */
  async start(): Promise<void> {
    this.flushTimer = setInterval(() => void this.flush(), this.opts.flushIntervalMs);
    await this.subscription.start();
  }

  private receive(channel: amqp.Channel, message: amqp.ConsumeMessage): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.content.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    const result = TrackingEventSchema.safeParse(parsed);
    if (!result.success) {
      // Not requeued: the queue's dead-letter exchange moves it to tracking.dlq for inspection.
      eventsInvalid.inc();
      this.settle(() => channel.nack(message, false, false));
      return;
    }
    const event = result.data;
    eventsConsumed.inc({ type: event.type });
    const known = this.recent.has(event.id) || (this.inFlight?.has(event.id) ?? false);
    if (this.batch.add(event, { channel, message }, known) === "duplicate") eventsDuplicate.inc();
    eventsPending.set(this.batch.size + (this.inFlight?.size ?? 0));
    // The broker sends no more than `prefetch` unacked messages: flush rather than wait for the timer.
    if (this.batch.size >= this.opts.prefetch) void this.flush();
  }

  /** Commit what has been received, then ack it; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = null;
      // Messages that filled the batch during this flush must not wait for the timer.
      if (!this.closed && this.batch.size >= this.opts.prefetch) void this.flush();
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.batch.size === 0) return;
    const batch = this.batch;
    this.batch = new StatsBatch<Delivery>();
    this.inFlight = batch;
    const end = flushDuration.startTimer();
    try {
      await this.repo.addCounts(batch.rows());
      end({ outcome: "ok" });
    } catch (err) {
      end({ outcome: "error" });
      this.log.warn({ err: (err as Error).message, events: batch.size }, "flush failed; retrying with the next batch");
      this.batch.absorb(batch);
      return;
    } finally {
      this.inFlight = null;
    }
    this.recent.addAll(batch.eventIds);
    eventsFlushed.inc(batch.size);
    // A delivery from a channel that has closed since is redelivered by the broker; RecentIds
    // recognises it, so it is acked then without being counted again.
    for (const d of batch.deliveries) this.settle(() => d.channel.ack(d.message));
    eventsPending.set(this.batch.size);
  }

  private settle(op: () => void): void {
    try {
      op();
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "could not settle a message; the broker redelivers it");
    }
  }

  /** Stop consuming, flush and ack what was received, close the connection. */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.flushTimer);
    await this.subscription.cancel(); // after this, no more deliveries arrive
    await this.flush(); // the flush in progress, if any
    await this.flush(); // what it left behind
    // A quorum queue may drop acks that arrive just before their channel closes and redeliver
    // those messages (rabbitmq-server#10327, open): give the broker a moment to apply them.
    await new Promise((resolve) => setTimeout(resolve, ACK_GRACE_MS));
    await this.subscription.close();
  }
}
