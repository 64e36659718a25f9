import type { Logger } from "../../platform/log";
import type { PacketStore } from "../../modules/red-packets/packet-store";

/**
 * Which packets have grabs waiting, so consumer loops do not poll every active packet. Every
 * `intervalMs` it reads the active set and each packet's queue length; loops take packets
 * round-robin and report a packet drained when their claim finds nothing.
 */
export class PacketWatch {
  private hot: number[] = [];
  private cursor = 0;
  private active: number[] = [];
  private waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;

  constructor(
    private readonly store: PacketStore,
    private readonly log: Logger,
    private readonly intervalMs = 100,
  ) {}

  /** Start polling. */
  start(): this {
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch((err: Error) => this.log.debug({ err: err.message }, "packet watch poll failed"))
        .finally(() => (this.polling = null));
    }, this.intervalMs);
    return this;
  }

  /** The ids of every active packet as of the last poll. */
  activeIds(): number[] {
    return this.active;
  }

  /** The next packet with work, round-robin, or null when none. */
  next(): number | null {
    if (this.hot.length === 0) return null;
    this.cursor = (this.cursor + 1) % this.hot.length;
    return this.hot[this.cursor] ?? null;
  }

  /** A claim found nothing: skip this packet until a poll sees work again. */
  drained(packetId: number): void {
    this.hot = this.hot.filter((id) => id !== packetId);
  }

  /** Resolve when a poll finds work, on wake(), or after `timeoutMs`. */
  waitForWork(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Release every waiting loop (on stop). */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  /** Stop polling. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.wake();
    await this.polling;
  }

  private async poll(): Promise<void> {
    this.active = await this.store.activeIds();
    const queued = await Promise.all(this.active.map(async (id) => ({ id, queued: await this.store.queued(id) })));
    this.hot = queued.filter((p) => p.queued > 0).map((p) => p.id);
    if (this.hot.length > 0) this.wake();
  }
}
