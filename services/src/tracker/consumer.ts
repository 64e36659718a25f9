import amqp from "amqplib";
import type { ServiceConfig } from "../platform/config";
import type { Logger } from "../platform/log";
import { TRACKING_QUEUE, TrackingEventSchema } from "../platform/tracking";
import { RecentIds, StatsBatch } from "./aggregate";
import { eventsConsumed, eventsDuplicate, eventsFlushed, eventsInvalid, eventsPending, flushDuration } from "./metrics";
import type { TrackingStatsRepository } from "./repository";

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
  private connection: amqp.ChannelModel | null = null;
  private channel: amqp.Channel | null = null;
  private consumerTag: string | null = null;
  private batch = new StatsBatch<Delivery>();
  private inFlight: StatsBatch<Delivery> | null = null;
  private flushing: Promise<void> | null = null;
  private readonly recent = new RecentIds();
  private closed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ServiceConfig,
    private readonly repo: TrackingStatsRepository,
    private readonly log: Logger,
    private readonly opts: ConsumerOptions = { prefetch: 200, flushIntervalMs: 1000 },
  ) {}

  /** True while a channel is consuming. */
  get consuming(): boolean {
    return this.consumerTag !== null;
  }

  /** Start consuming (reconnecting with backoff) and flushing. */
  async start(): Promise<void> {
    this.flushTimer = setInterval(() => void this.flush(), this.opts.flushIntervalMs);
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const c = this.config;
    const url = `amqp://${encodeURIComponent(c.RABBITMQ_USER)}:${encodeURIComponent(c.RABBITMQ_PASSWORD)}@${c.RABBITMQ_ADDRESS.host}:${c.RABBITMQ_ADDRESS.port}/${encodeURIComponent(c.RABBITMQ_VHOST)}?heartbeat=10`;
    try {
      const connection = await amqp.connect(url, { timeout: 2000 });
      connection.on("error", (err: Error) => this.log.warn({ err: err.message }, "rabbitmq connection error"));
      connection.on("close", () => {
        this.connection = null;
        this.channel = null;
        this.consumerTag = null;
        this.scheduleReconnect();
      });
      const channel = await connection.createChannel();
      channel.on("error", (err: Error) => this.log.warn({ err: err.message }, "rabbitmq channel error"));
      await channel.prefetch(this.opts.prefetch);
      const { consumerTag } = await channel.consume(TRACKING_QUEUE, (message) => {
        if (message) this.receive(channel, message);
      });
      this.connection = connection;
      this.channel = channel;
      this.consumerTag = consumerTag;
      this.attempt = 0;
      this.log.info({ queue: TRACKING_QUEUE, prefetch: this.opts.prefetch }, "consuming");
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "rabbitmq connect failed");
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delayMs = Math.min(100 * 2 ** this.attempt++, 5000);
    this.reconnectTimer = setTimeout(() => void this.connect(), delayMs);
  }

  private receive(channel: amqp.Channel, message: amqp.ConsumeMessage): void {
    if (this.closed) return; // stopping: left unsettled, requeued when the channel closes
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
    this.log.info({ acked: batch.size, tags: [batch.deliveries[0]?.message.fields.deliveryTag, batch.deliveries.at(-1)?.message.fields.deliveryTag], redelivered: batch.deliveries.filter((d) => d.message.fields.redelivered).length, closed: this.closed }, "DEBUG flushed");
  }

  private settle(op: () => void): void {
    try {
      op();
    } catch (err) {
      this.log.info({ err: (err as Error).message }, "could not settle a message; the broker redelivers it");
    }
  }

  /** Stop taking events, flush and ack what was received, close the connection. */
  async stop(): Promise<void> {
    // No basic.cancel first: on a quorum queue the broker dropped acks sent after a cancel and
    // redelivered those messages (seen as double counts). Deliveries arriving from now on are left
    // unsettled instead, and the channel close below requeues them for the next consumer.
    this.closed = true;
    this.consumerTag = null;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.flushTimer);
    await this.flush(); // the flush in progress, if any
    await this.flush(); // what it left behind
    // Close the channel first: its close travels behind the acks on the same channel, and close-ok
    // means the broker has them. A connection close can overtake frames still queued per channel.
    this.log.info("DEBUG closing channel");
    const q = await this.channel?.checkQueue(TRACKING_QUEUE).catch(() => undefined);
    this.log.info({ q }, "DEBUG checked");
    await this.channel?.close().catch((err: Error) => this.log.info({ err: err.message }, "DEBUG close failed"));
    this.log.info("DEBUG channel closed");
    await this.connection?.close().catch(() => undefined);
  }
}
