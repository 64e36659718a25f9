/**
 * A circuit breaker for Redis: after a connection-level failure (timeout, refused, cluster down)
 * callers skip Redis for `coolDownMs` instead of each waiting out its own command timeout. Reply
 * errors (a script's or a command's own error) say Redis is up, so they do not open it.
 */
export class RedisBreaker {
  private openUntil = 0;
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly coolDownMs = 1000) {}

  /** Call `listener` each time the breaker opens (Redis just became unreachable). */
  onOpen(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** True while Redis should be skipped. */
  get open(): boolean {
    return Date.now() < this.openUntil;
  }

  /** Run a Redis call through the breaker; rejects at once while it is open. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.open) throw new Error("redis circuit open");
    return this.attempt(call);
  }

  /**
   * Run a Redis call even while the breaker is open (a connection failure still opens it). For the
   * few calls that other processes rely on after a commit — cache invalidations, read-your-writes
   * marks: Redis may be back while this process still cools down, and another process whose breaker
   * has closed would serve what the skipped call should have cleared.
   */
  async attempt<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if ((err as Error).name !== "ReplyError") {
        const wasClosed = !this.open;
        this.openUntil = Date.now() + this.coolDownMs;
        if (wasClosed) this.listeners.forEach((listener) => listener());
      }
      throw err;
    }
  }
}
