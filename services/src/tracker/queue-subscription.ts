import amqp from "amqplib";
import type { ServiceConfig } from "../platform/config";
import type { Logger } from "../platform/log";

/** Called for every delivery, with the channel it must be settled on (delivery tags are per channel). */
export type OnDelivery = (channel: amqp.Channel, message: amqp.ConsumeMessage) => void;

/** A consumer on one queue with a prefetch window that reconnects with backoff after any failure. */
export class QueueSubscription {
  private connection: amqp.ChannelModel | null = null;
  private channel: amqp.Channel | null = null;
  private consumerTag: string | null = null;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ServiceConfig,
    private readonly queue: string,
    private readonly prefetch: number,
    private readonly log: Logger,
    private readonly onDelivery: OnDelivery,
  ) {}

  /** True while a channel is consuming. */
  get consuming(): boolean {
    return this.consumerTag !== null;
  }

  /** True while `channel` is the one consuming: deliveries on an older one were already requeued by the broker. */
  isCurrent(channel: amqp.Channel): boolean {
    return this.channel === channel;
  }

  /** Start consuming; resolves after the first attempt, connected or not (RabbitMQ may be down at start). */
  async start(): Promise<void> {
    await this.connect();
  }

  private url(): string {
    const c = this.config;
    const credentials = `${encodeURIComponent(c.RABBITMQ_USER)}:${encodeURIComponent(c.RABBITMQ_PASSWORD)}`;
    const { host, port } = c.RABBITMQ_ADDRESS;
    return `amqp://${credentials}@${host}:${port}/${encodeURIComponent(c.RABBITMQ_VHOST)}?heartbeat=10`;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let connection: amqp.ChannelModel | null = null;
    try {
      connection = await amqp.connect(this.url(), { timeout: 2000 });
      connection.on("error", (err: Error) => this.log.warn({ err: err.message }, "rabbitmq connection error"));
      connection.on("close", () => {
        this.connection = null;
        this.channel = null;
        this.consumerTag = null;
        this.scheduleReconnect();
      });
      const channel = await connection.createChannel();
      channel.on("error", (err: Error) => this.log.warn({ err: err.message }, "rabbitmq channel error"));
      await channel.prefetch(this.prefetch);
      const { consumerTag } = await channel.consume(this.queue, (message) => {
        if (message) this.onDelivery(channel, message);
      });
      this.connection = connection;
      this.channel = channel;
      this.consumerTag = consumerTag;
      this.attempt = 0;
      this.log.info({ queue: this.queue, prefetch: this.prefetch }, "consuming");
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "rabbitmq subscribe failed");
      // A half-set-up connection would otherwise linger beside the next attempt; its close reconnects.
      if (connection) await connection.close().catch(() => undefined);
      else this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    const delayMs = Math.min(100 * 2 ** this.attempt++, 5000);
    this.timer = setTimeout(() => void this.connect(), delayMs);
  }

  /** Stop deliveries and reconnects; deliveries already sent arrive before this resolves. */
  async cancel(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.channel && this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => undefined);
    this.consumerTag = null;
  }

  /** Close the channel, then the connection; unsettled deliveries go back to the queue. */
  async close(): Promise<void> {
    await this.cancel();
    await this.channel?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}
