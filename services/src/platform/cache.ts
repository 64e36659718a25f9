import { randomUUID } from "node:crypto";
import type { Cluster } from "ioredis";
import { LRUCache } from "lru-cache";
import type { Logger } from "./log";
import { evalScript } from "./lua";
import { cacheLoads, cacheLookups } from "./metrics";
import type { RedisBreaker } from "./redis-breaker";

/** Tunables shared by every cache in a process. */
export interface CacheSettings {
  l1TtlMs: number;
  l1MaxEntries: number;
  l2TtlSeconds: number;
  negativeTtlSeconds: number;
}

type Entry = { value: unknown } | { missing: true };
const CHANNEL = "floodgate:cache-invalidate";

// Set only if nobody invalidated since we read the version: closes the stale-set race where a slow
// reader refills the cache with a value older than a concurrent writer's delete.
const SET_IF_VERSION = `
local current = redis.call('GET', KEYS[2]) or '0'
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;
const GET_WITH_VERSION = `return { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) or '0' }`;
const INVALIDATE = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 86400)
return redis.call('DEL', KEYS[1])`;

const jitter = (base: number) => Math.max(1, Math.round(base * (0.9 + Math.random() * 0.2)));

/**
 * L1 (in-process LRU, short TTL) → L2 (Redis) → loader, with single-flight per key, jittered TTLs,
 * negative caching and delete-on-write invalidation that reaches every process's L1 over pub/sub.
 * Redis failures degrade to the loader; they never fail a read. Cached values must be JSON:
 * every level returns them as JSON.parse would.
 */
export class CacheRegistry {
  private readonly l1: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<Entry>>();
  // Bumped on every invalidation a process sees; a load that started under an older generation
  // must not fill L1.
  private readonly generation = new LRUCache<string, number>({ max: 200_000, ttl: 60_000 });
  private readonly pendingInvalidations = new Set<string>();
  private readonly origin = randomUUID();
  private subscriber: Cluster | null = null;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Cluster,
    private readonly breaker: RedisBreaker,
    private readonly settings: CacheSettings,
    private readonly log: Logger,
  ) {
    this.l1 = new LRUCache<string, Entry>({ max: settings.l1MaxEntries, ttl: settings.l1TtlMs, ttlAutopurge: false });
    // Without Redis no invalidation can reach this process, so nothing in L1 can be trusted.
    breaker.onOpen(() => this.l1.clear());
  }

  /** Subscribe to invalidations from other processes. */
  async start(): Promise<void> {
    // Unlike the command client, the subscriber queues its SUBSCRIBE until the cluster answers.
    const subscriber = this.redis.duplicate(undefined, { enableOfflineQueue: true });
    subscriber.on("error", (err: Error) => this.log.warn({ err: err.message }, "cache subscriber error"));
    subscriber.on("message", (_channel: string, message: string) => {
      const { key, origin } = JSON.parse(message) as { key: string; origin: string };
      if (origin !== this.origin) this.dropLocal(key);
    });
    // Redis may be down at start: ioredis resubscribes once it connects.
    subscriber.subscribe(CHANNEL).catch((err: Error) => this.log.warn({ err: err.message }, "cache subscribe failed"));
    this.subscriber = subscriber;
    this.retryTimer = setInterval(() => void this.retryInvalidations(), 500);
    this.retryTimer.unref();
  }

  /** Stop listening. */
  async close(): Promise<void> {
    clearInterval(this.retryTimer);
    this.subscriber?.disconnect();
  }

  /** A named cache whose values are loaded by `loader` on a miss (null = does not exist, cached briefly). */
  cache<T>(name: string): NamedCache<T> {
    return {
      get: (key, loader) => this.get(`${name}:${key}`, name, loader) as Promise<T | null>,
      invalidate: (key) => this.invalidate(`${name}:${key}`),
    };
  }

  private l2Keys(fullKey: string): [string, string] {
    return [`c:{${fullKey}}`, `c:{${fullKey}}:ver`];
  }

  private async get(fullKey: string, name: string, loader: () => Promise<unknown>): Promise<unknown> {
    const cached = this.l1.get(fullKey);
    if (cached) {
      cacheLookups.inc({ cache: name, level: "l1", result: "hit" });
      return "value" in cached ? cached.value : null;
    }
    cacheLookups.inc({ cache: name, level: "l1", result: "miss" });
    let flight = this.inflight.get(fullKey);
    if (!flight) {
      flight = this.load(fullKey, name, loader).finally(() => this.inflight.delete(fullKey));
      this.inflight.set(fullKey, flight);
    }
    const entry = await flight;
    return "value" in entry ? entry.value : null;
  }

  private async load(fullKey: string, name: string, loader: () => Promise<unknown>): Promise<Entry> {
    const generation = this.generation.get(fullKey) ?? 0;
    const keys = this.l2Keys(fullKey);
    let version: string | null = null;
    try {
      const [raw, ver] = (await this.breaker.run(() => evalScript(this.redis, GET_WITH_VERSION, keys, []))) as [
        string | null,
        string,
      ];
      version = ver;
      if (raw !== null) {
        cacheLookups.inc({ cache: name, level: "l2", result: "hit" });
        const entry = JSON.parse(raw) as Entry;
        this.fillL1(fullKey, entry, generation);
        return entry;
      }
      cacheLookups.inc({ cache: name, level: "l2", result: "miss" });
    } catch (err) {
      cacheLookups.inc({ cache: name, level: "l2", result: "error" });
      this.log.debug({ err: (err as Error).message, key: fullKey }, "cache l2 unavailable; loading from the database");
    }
    cacheLoads.inc({ cache: name });
    const value = await loader();
    // L1 keeps the JSON round trip too, so a hit returns the same shape (dates as ISO strings)
    // whichever level answers.
    const entry: Entry =
      value === null || value === undefined ? { missing: true } : { value: JSON.parse(JSON.stringify(value)) };
    const ttl = jitter("missing" in entry ? this.settings.negativeTtlSeconds : this.settings.l2TtlSeconds);
    // With Redis unreachable, L1 is not filled either: another process's write could not tell us to
    // drop it, so every read goes to the database until Redis is back (slower, never stale).
    let stored = false;
    if (version !== null) {
      stored = await this.breaker
        .run(() => evalScript(this.redis, SET_IF_VERSION, keys, [version as string, JSON.stringify(entry), ttl]))
        .then((r) => r === 1)
        .catch(() => false);
    }
    if (stored) this.fillL1(fullKey, entry, generation);
    return entry;
  }

  private fillL1(fullKey: string, entry: Entry, generation: number): void {
    if ((this.generation.get(fullKey) ?? 0) !== generation) return;
    const ttl =
      "missing" in entry
        ? Math.min(this.settings.l1TtlMs, this.settings.negativeTtlSeconds * 1000)
        : this.settings.l1TtlMs;
    this.l1.set(fullKey, entry, { ttl: jitter(ttl) });
  }

  private dropLocal(fullKey: string): void {
    this.generation.set(fullKey, (this.generation.get(fullKey) ?? 0) + 1);
    this.l1.delete(fullKey);
  }

  /** Delete-on-write: call after the database commit. Clears L1 here and everywhere, and L2. */
  private async invalidate(fullKey: string): Promise<void> {
    this.dropLocal(fullKey);
    try {
      await this.breaker.run(() => evalScript(this.redis, INVALIDATE, this.l2Keys(fullKey), []));
      await this.breaker.run(() => this.redis.publish(CHANNEL, JSON.stringify({ key: fullKey, origin: this.origin })));
    } catch (err) {
      // The write is committed; a stale L2 entry must not survive Redis coming back. Retry until it lands.
      this.pendingInvalidations.add(fullKey);
      this.log.warn({ err: (err as Error).message, key: fullKey }, "cache invalidation deferred");
    }
  }

  private async retryInvalidations(): Promise<void> {
    for (const key of [...this.pendingInvalidations]) {
      this.pendingInvalidations.delete(key);
      await this.invalidate(key);
    }
  }
}

/** One named cache. */
export interface NamedCache<T> {
  get(key: string | number, loader: () => Promise<T | null>): Promise<T | null>;
  invalidate(key: string | number): Promise<void>;
}
