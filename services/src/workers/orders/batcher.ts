/** Batching limits: how long a batch gathers after its first item, and the most items in one batch. */
export interface BatchLimits {
  windowMs: number;
  maxSize: number;
}

/**
 * Groups items by key and hands each group to `run` `windowMs` after the first of them arrived, or
 * at once when it reaches `maxSize`. At most one run per key at a time, until it ends or calls
 * `release`: what arrives meanwhile waits and goes as the next batch, so a busy key gets bigger
 * batches instead of more of them (for a sale, each batch is one commit holding its row lock, and
 * a run releases the sale once committed, while it still writes the outcomes to Redis).
 */
export class KeyedBatcher<K, T> {
  private readonly waiting = new Map<K, T[]>();
  private readonly running = new Set<K>();
  private readonly jobs = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: BatchLimits,
    private readonly run: (key: K, items: T[], release: () => void) => Promise<void>,
  ) {}

  /** Queue one item under `key`. */
  add(key: K, item: T): void {
    const group = this.waiting.get(key) ?? [];
    group.push(item);
    this.waiting.set(key, group);
    if (group.length >= this.limits.maxSize) return this.start(key);
    // Armed by the first waiting item and not pushed back by later ones: a steady trickle for one
    // busy key must not keep another key's batch waiting.
    this.timer ??= setTimeout(() => this.flush(), this.limits.windowMs);
  }

  /** Start every waiting group whose key is not running. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const key of [...this.waiting.keys()]) this.start(key);
  }

  /** Run everything waiting, including what queues behind running keys, until nothing is left. */
  async drain(): Promise<void> {
    while (this.waiting.size > 0 || this.jobs.size > 0) {
      this.flush();
      await Promise.allSettled([...this.jobs]);
    }
  }

  private start(key: K): void {
    const group = this.waiting.get(key);
    if (!group || this.running.has(key)) return; // starts when the running batch ends
    const items = group.splice(0, this.limits.maxSize);
    if (group.length === 0) this.waiting.delete(key);
    this.running.add(key);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.running.delete(key);
      this.start(key);
    };
    const job: Promise<void> = this.run(key, items, release)
      .catch(() => undefined) // `run` settles its own items; a throw must not stall the key
      .finally(() => {
        this.jobs.delete(job);
        release();
      });
    this.jobs.add(job);
  }
}
