import type amqp from "amqplib";
import type { ServiceConfig } from "../platform/config";
import type { Logger } from "../platform/log";
import { TRACKING_QUEUE } from "../platform/tracking";
import { RecentIds, StatsBatch } from "./aggregate";
import { parseTrackingMessage } from "./message";
import {
  eventsConsumed,
  eventsDuplicate,
  eventsFlushed,
  eventsInvalid,
  eventsPending,
  flushDuration,
  messagesConsumed,
} from "./metrics";
import { QueueSubscription } from "./queue-subscription";
import type { TrackingStatsRepository } from "./repository";

const ACK_GRACE_MS = 500;
// A batch message carries up to 1000 events: `prefetch` of them could hold far more than one flush
// should commit (and than RecentIds should take at once), so flush early on events too.
const DEFAULT_MAX_PENDING_EVENTS = 5000;

/** A message and the channel it must be settled on (delivery tags are per channel). */
interface Delivery {
  channel: amqp.Channel;
  message: amqp.ConsumeMessage;
}

/** Consumer tunables. */
export interface ConsumerOptions {
  prefetch: number;
  flushIntervalMs: number;
  /** Flush as soon as this many events wait, whatever the number of messages. */
  maxPendingEvents?: number;
}

/**
 * Consumes the tracking queue: invalid messages are dead-lettered, valid ones aggregated in memory
 * and flushed to tracking_stats every flushIntervalMs (or when `prefetch` messages or
 * `maxPendingEvents` events wait), each message acked once, only after the commit — at-least-once. A crash between commit and ack redelivers the batch; ids
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
    const events = parseTrackingMessage(message.content);
    if (!events) {
      // Not requeued: the queue's dead-letter exchange moves it to tracking.dlq for inspection.
      eventsInvalid.inc();
      this.settle(() => channel.nack(message, false, false));
      return;
    }
    messagesConsumed.inc();
    for (const event of events) eventsConsumed.inc({ type: event.type });
    const known = (id: string) => this.recent.has(id) || (this.inFlight?.has(id) ?? false);
    const duplicates = this.batch.add({ channel, message }, events, known);
    if (duplicates > 0) eventsDuplicate.inc(duplicates);
    eventsPending.set(this.batch.eventCount + (this.inFlight?.eventCount ?? 0));
    if (this.full()) void this.flush();
  }

  // The broker sends no more than `prefetch` unacked messages: flush rather than wait for the timer.
  private full(): boolean {
    const maxEvents = this.opts.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS;
    return this.batch.size >= this.opts.prefetch || this.batch.eventCount >= maxEvents;
  }

  /** Commit what has been received, then ack it; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = null;
      // Messages that filled the batch during this flush must not wait for the timer.
      if (!this.closed && this.full()) void this.flush();
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
      this.log.warn(
        { err: (err as Error).message, events: batch.eventCount },
        "flush failed; retrying with the next batch",
      );
      this.batch.absorb(batch);
      return;
    } finally {
      this.inFlight = null;
    }
    this.recent.addAll(batch.eventIds);
    eventsFlushed.inc(batch.eventCount);
    // A delivery from a channel that has closed since is redelivered by the broker; RecentIds
    // recognises it, so it is acked then without being counted again.
    for (const d of batch.deliveries) this.settle(() => d.channel.ack(d.message));
    eventsPending.set(this.batch.eventCount);
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
