import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Logger } from "./log";
import { trackingEventsDropped } from "./metrics";
import type { MessageBroker } from "./mq";

/** The RabbitMQ queue behaviour events travel on. */
export const TRACKING_QUEUE = "tracking";

/** One behaviour event, as the API publishes it and the tracker consumes it. */
export const TrackingEventSchema = z.object({
  id: z.uuid(),
  type: z.enum(["view", "purchase_attempt", "sign_in"]),
  /** What the event is about, e.g. "product:42" or "flash_sale:7". */
  subject: z.string().min(1).max(64),
  userId: z.number().int().positive().nullable(),
  at: z.iso.datetime(),
});

/** A behaviour event. */
export type TrackingEvent = z.infer<typeof TrackingEventSchema>;

/** Most events one message may carry (the tracker dead-letters larger batches). */
export const MAX_EVENTS_PER_MESSAGE = 1000;

/** One message carrying several events: the API batches them so RabbitMQ moves one message, not one per read. */
export const TrackingBatchSchema = z.object({
  events: z.array(TrackingEventSchema).min(1).max(MAX_EVENTS_PER_MESSAGE),
});

/** A batch message. */
export type TrackingBatch = z.infer<typeof TrackingBatchSchema>;

/** Batching tunables. */
export interface TrackingOptions {
  /** Publish as soon as this many events wait. */
  maxBatch: number;
  /** Publish at the latest this long after the first event of a batch. */
  maxDelayMs: number;
  /** Events allowed to wait while publishes are pending; newer ones are dropped. */
  maxBuffered: number;
  /** Publishes awaiting their confirm at once; beyond it events wait in the buffer. */
  maxInFlight: number;
}

/** Defaults: a batch per 200 events or 100 ms, at most 10,000 events held in memory. */
export const DEFAULT_TRACKING_OPTIONS: TrackingOptions = {
  maxBatch: 200,
  maxDelayMs: 100,
  maxBuffered: 10_000,
  maxInFlight: 4,
};

/**
 * Fire-and-forget, batching publisher: events wait in memory until `maxBatch` of them or
 * `maxDelayMs` after the first, then go out as one message. The API never waits on the tracker and
 * keeps working when it is down; a failed publish drops its batch (counted by the broker, logged).
 */
export class Tracking {
  private buffer: TrackingEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The oldest waiting events have waited `maxDelayMs`: send them even if the batch is not full. */
  private due = false;
  private readonly inFlight = new Set<Promise<void>>();
  private droppedSinceDrain = 0;
  private droppedTotal = 0;

  constructor(
    private readonly mq: Pick<MessageBroker, "publish">,
    private readonly log: Logger,
    private readonly opts: TrackingOptions = DEFAULT_TRACKING_OPTIONS,
  ) {
    if (opts.maxBatch < 1 || opts.maxBatch > MAX_EVENTS_PER_MESSAGE) {
      throw new Error(`tracking maxBatch = ${opts.maxBatch}: must be 1..${MAX_EVENTS_PER_MESSAGE}`);
    }
  }

  /** Events dropped because the buffer was full, since start. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Queue an event for the next batch; never throws, never waits. */
  track(type: TrackingEvent["type"], subject: string, userId: number | null): void {
    if (this.buffer.length >= this.opts.maxBuffered) {
      this.droppedTotal++;
      trackingEventsDropped.inc();
      // Once per overflow episode: at this point the log would otherwise take one line per read.
      if (this.droppedSinceDrain++ === 0)
        this.log.debug({ waiting: this.buffer.length }, "tracking buffer full; dropping events");
      return;
    }
    this.buffer.push({ id: randomUUID(), type, subject, userId, at: new Date().toISOString() });
    this.drain();
  }

  /** Publish everything buffered now and wait for every pending publish (graceful shutdown). */
  async flush(): Promise<void> {
    this.due = true;
    this.drain(Number.POSITIVE_INFINITY);
    await Promise.allSettled([...this.inFlight]);
  }

  private drain(maxInFlight = this.opts.maxInFlight): void {
    while (
      this.inFlight.size < maxInFlight &&
      (this.buffer.length >= this.opts.maxBatch || (this.due && this.buffer.length > 0))
    ) {
      this.publish(this.buffer.splice(0, this.opts.maxBatch));
    }
    if (this.buffer.length === 0) {
      this.due = false;
      clearTimeout(this.timer);
      this.timer = undefined;
      if (this.droppedSinceDrain > 0) this.log.debug({ dropped: this.droppedSinceDrain }, "tracking buffer drained");
      this.droppedSinceDrain = 0;
    } else if (!this.due && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.drain();
      }, this.opts.maxDelayMs);
      this.timer.unref(); // buffered events must not keep a stopping process alive; flush() sends them
    }
  }

  private publish(events: TrackingEvent[]): void {
    const body: TrackingBatch = { events };
    const sent = this.mq
      .publish(TRACKING_QUEUE, body, randomUUID())
      .catch((err: Error) => this.log.debug({ err: err.message, events: events.length }, "tracking batch dropped"))
      .finally(() => {
        this.inFlight.delete(sent);
        this.drain();
      });
    this.inFlight.add(sent);
  }
}
