import amqp from "amqplib";
import type { ServiceConfig } from "./config";
import type { Logger } from "./log";

/** A RabbitMQ connection that reconnects with backoff; `connection` is null while it is down. */
export class MessageBroker {
  connection: amqp.ChannelModel | null = null;
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
        this.scheduleReconnect();
      });
      this.connection = connection;
      this.attempt = 0;
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

  /** Stop reconnecting and close the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.connection?.close().catch(() => undefined);
  }
}
