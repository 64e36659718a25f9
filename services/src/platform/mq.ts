import amqp from "amqplib";
import type { ServiceConfig } from "./config";
import type { Logger } from "./log";
import { mqPublishes } from "./metrics";

/** Thrown when a publish was not confirmed: the broker may or may not have the message. */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly outcome: "nacked" | "unconfirmed" | "not_connected",
  ) {
    super(message);
    this.name = "PublishError";
  }
}

const CONFIRM_TIMEOUT_MS = 2000;

/**
 * A RabbitMQ connection with a confirm channel that reconnects with backoff. `publish` resolves
 * only when the broker confirmed the (persistent) message.
 */
export class MessageBroker {
  connection: amqp.ChannelModel | null = null;
  private channel: amqp.ConfirmChannel | null = null;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ServiceConfig,
    private readonly log: Logger,
  ) {}

  /** Start connecting; resolves after the first attempt, connected or not. */
  async start(): Promise<void> {
    await this.connect();
  }

  private url(): string {
    const c = this.config;
    const user = encodeURIComponent(c.RABBITMQ_USER);
    const pass = encodeURIComponent(c.RABBITMQ_PASSWORD);
    const vhost = encodeURIComponent(c.RABBITMQ_VHOST);
    return `amqp://${user}:${pass}@${c.RABBITMQ_ADDRESS.host}:${c.RABBITMQ_ADDRESS.port}/${vhost}?heartbeat=10`;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    try {
      const connection = await amqp.connect(this.url(), { timeout: 2000 });
      connection.on("error", (err: Error) => this.log.warn({ err: err.message }, "rabbitmq connection error"));
      connection.on("close", () => {
        this.connection = null;
        this.channel = null;
        this.scheduleReconnect();
      });
      // A blocked connection (memory or disk alarm) must not make publishers hang: they time out.
      connection.on("blocked", (reason: string) => this.log.warn({ reason }, "rabbitmq blocked the connection"));
      const channel = await connection.createConfirmChannel();
      channel.on("error", (err: Error) => this.log.warn({ err: err.message }, "rabbitmq channel error"));
      channel.on("close", () => {
        if (this.channel === channel) this.channel = null;
      });
      this.connection = connection;
      this.channel = channel;
      this.attempt = 0;
      this.log.info("rabbitmq connected");
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "rabbitmq connect failed");
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delayMs = Math.min(100 * 2 ** this.attempt++, 5000);
    this.timer = setTimeout(() => void this.connect(), delayMs);
  }

  /** Publish a persistent JSON message to a queue; resolves on the broker's confirm, rejects otherwise. */
  publish(queue: string, body: unknown, messageId: string): Promise<void> {
    const channel = this.channel;
    if (!channel) {
      mqPublishes.inc({ queue, outcome: "not_connected" });
      return Promise.reject(new PublishError("rabbitmq is not connected", "not_connected"));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        mqPublishes.inc({ queue, outcome: "unconfirmed" });
        reject(new PublishError(`no confirm within ${CONFIRM_TIMEOUT_MS} ms`, "unconfirmed"));
      }, CONFIRM_TIMEOUT_MS);
      try {
        channel.sendToQueue(
          queue,
          Buffer.from(JSON.stringify(body)),
          { persistent: true, messageId, contentType: "application/json", timestamp: Math.floor(Date.now() / 1000) },
          (err) => {
            clearTimeout(timer);
            mqPublishes.inc({ queue, outcome: err ? "nacked" : "confirmed" });
            if (err) reject(new PublishError("the broker refused the message", "nacked"));
            else resolve();
          },
        );
      } catch (err) {
        clearTimeout(timer);
        mqPublishes.inc({ queue, outcome: "not_connected" });
        reject(new PublishError((err as Error).message, "not_connected"));
      }
    });
  }

  /** Stop reconnecting and close the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.connection?.close().catch(() => undefined);
  }
}
