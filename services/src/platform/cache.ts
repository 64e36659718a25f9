import { randomUUID } from "node:crypto";
import type { Cluster } from "ioredis";
import { LRUCache } from "lru-cache";
import type { Logger } from "./log";
import { evalScript } from "./lua";
import { cacheL1Resets, cacheLoads, cacheLookups } from "./metrics";
import type { RedisBreaker } from "./redis-breaker";

/** Tunables shared by every cache in a process. */
export interface CacheSettings {
  l1TtlMs: number;
  l1MaxEntries: number;
  l2TtlSeconds: number;
  negativeTtlSeconds: number;
}

type Entry = { value: unknown } | { missing: true };

// Invalidations travel on one shard channel. SPUBLISH runs on the channel's master, which hands the
// message to its subscribers before it answers the publisher: a write's response leaves after every
// subscribed process has been sent the invalidation, so a read on another API replica cannot beat
// it. (Plain PUBLISH answers first and forwards over the cluster bus afterwards; a read could.)
// Each message carries a number from a counter on the same node, so a process that misses one (a
// reconnect, a failover) sees the gap and drops its whole L1.
const CHANNEL = "{floodgate:cache}:invalidate";
const SEQUENCE = "{floodgate:cache}:seq";
const PUBLISH = `
local n = redis.call('INCR', KEYS[1])
redis.call('SPUBLISH', KEYS[2], n .. ' ' .. ARGV[1])
return n`;
// How often a process compares the counter with the last number it received: a message not
// received by the next check counts as lost.
const SEQUENCE_CHECK_MS = 250;

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
  private retrying = false;
  private readonly origin = randomUUID();
  private subscriber: Cluster | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private sequenceTimer: NodeJS.Timeout | undefined;
  // L1 is filled only while invalidations can reach this process: once subscribed, and only by a
  // load that started after the last reset (a reset bumps the epoch).
  private subscribed = false;
  private epoch = 0;
  private lastSeq: number | null = null;
  private awaiting: { seq: number; since: number } | null = null;
  private checksBelow = 0;

  constructor(
    private readonly redis: Cluster,
    private readonly breaker: RedisBreaker,
    private readonly settings: CacheSettings,
    private readonly log: Logger,
  ) {
    this.l1 = new LRUCache<string, Entry>({ max: settings.l1MaxEntries, ttl: settings.l1TtlMs, ttlAutopurge: false });
    // Without Redis no invalidation can reach this process, so nothing in L1 can be trusted.
    breaker.onOpen(() => this.dropAll("redis_down"));
  }

  /** Subscribe to invalidations from other processes. */
  async start(): Promise<void> {
    // Unlike the command client, the subscriber queues its SSUBSCRIBE until the cluster answers.
    const subscriber = this.redis.duplicate(undefined, { enableOfflineQueue: true, shardedSubscribers: true });
    subscriber.on("error", (err: Error) => this.log.warn({ err: err.message }, "cache subscriber error"));
    subscriber.on("smessage", (_channel: string, message: string) => this.received(message));
    // Redis may be down at start: ioredis subscribes once it connects; L1 stays empty until then.
    subscriber
      .ssubscribe(CHANNEL)
      .then(() => {
        this.subscribed = true;
      })
      .catch((err: Error) => this.log.warn({ err: err.message }, "cache subscribe failed"));
    this.subscriber = subscriber;
    this.retryTimer = setInterval(() => void this.retryInvalidations(), 500);
    this.retryTimer.unref();
    this.sequenceTimer = setInterval(() => void this.checkSequence(), SEQUENCE_CHECK_MS);
    this.sequenceTimer.unref();
  }

  /** True once invalidations from other processes reach this one (until then L1 stays empty). */
  get listening(): boolean {
    return this.subscribed;
  }

  /** Stop listening. */
  async close(): Promise<void> {
    clearInterval(this.retryTimer);
    clearInterval(this.sequenceTimer);
    this.subscribed = false;
    this.subscriber?.disconnect();
  }

  private received(message: string): void {
    const space = message.indexOf(" ");
    const seq = Number(message.slice(0, space));
    if (this.lastSeq !== null && seq !== this.lastSeq + 1) this.dropAll("missed_invalidation");
    this.lastSeq = seq;
    const { key, origin } = JSON.parse(message.slice(space + 1)) as { key: string; origin: string };
    if (origin !== this.origin) this.dropLocal(key);
  }

  // Catches a loss that no later message reveals: the counter moved on, and what it numbered did
  // not arrive within a check interval. The GET races the messages (another connection), so a
  // counter below the last number received is usually just a stale answer; only a counter that
  // stays below for four checks was lost (a failover before it replicated).
  private async checkSequence(): Promise<void> {
    if (!this.subscribed) return;
    let current: number;
    try {
      current = Number((await this.breaker.run(() => this.redis.get(SEQUENCE))) ?? 0);
    } catch {
      return; // the breaker clears L1 while Redis is unreachable
    }
    const last = this.lastSeq;
    if (last === null) return this.followSequence(current);
    if (current < last) {
      if (++this.checksBelow >= 4) this.missedInvalidation(current);
      return;
    }
    this.checksBelow = 0;
    // One number awaited at a time, until it arrives: under a stream of writes the counter is always
    // a little ahead of what arrived, and each number gets its own full interval, counted from when
    // the answer that showed it was read (a delayed answer must not shorten the wait).
    if (this.awaiting && last >= this.awaiting.seq) this.awaiting = null;
    if (this.awaiting) {
      if (Date.now() - this.awaiting.since >= SEQUENCE_CHECK_MS) this.missedInvalidation(current);
    } else if (current > last) {
      this.awaiting = { seq: current, since: Date.now() };
    }
  }

  private missedInvalidation(current: number): void {
    this.dropAll("missed_invalidation");
    this.followSequence(current);
  }

  /** Count from `current` on: whatever it numbered before is taken as received. */
  private followSequence(current: number): void {
    this.lastSeq = current;
    this.awaiting = null;
    this.checksBelow = 0;
  }

  /** Forget every L1 entry, and keep loads already under way from filling it. */
  private dropAll(reason: string): void {
    this.epoch++;
    if (this.l1.size > 0) cacheL1Resets.inc({ reason });
    this.l1.clear();
  }

  /** A named cache whose values are loaded by `loader` on a miss (null = does not exist, cached briefly). */
  cache<T>(name: string): NamedCache<T> {
    return {
      get: (key, loader) => this.get(`${name}:${key}`, name, loader) as Promise<T | null>,
      invalidate: async (key) => {
        await this.invalidate(`${name}:${key}`);
      },
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
    const epoch = this.epoch;
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
        this.fillL1(fullKey, entry, generation, epoch);
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
    if (stored) this.fillL1(fullKey, entry, generation, epoch);
    return entry;
  }

  private fillL1(fullKey: string, entry: Entry, generation: number, epoch: number): void {
    if (!this.subscribed || this.epoch !== epoch || (this.generation.get(fullKey) ?? 0) !== generation) return;
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

  /**
   * Delete-on-write: call after the database commit. Clears L1 here and everywhere, and L2. Tried
   * even while this process's breaker is open (see RedisBreaker.attempt): during an outage a write
   * waits up to Redis's command timeout for it.
   */
  private async invalidate(fullKey: string): Promise<boolean> {
    this.dropLocal(fullKey);
    try {
      await this.breaker.attempt(() => evalScript(this.redis, INVALIDATE, this.l2Keys(fullKey), []));
      const message = JSON.stringify({ key: fullKey, origin: this.origin });
      await this.breaker.attempt(() => evalScript(this.redis, PUBLISH, [SEQUENCE, CHANNEL], [message]));
      return true;
    } catch (err) {
      // The write is committed; a stale L2 entry must not survive Redis coming back. Retry until it lands.
      this.pendingInvalidations.add(fullKey);
      this.log.warn({ err: (err as Error).message, key: fullKey }, "cache invalidation deferred");
      return false;
    }
  }

  private async retryInvalidations(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      for (const key of [...this.pendingInvalidations]) {
        this.pendingInvalidations.delete(key);
        if (!(await this.invalidate(key))) break; // Redis still away: the rest wait for the next round
      }
    } finally {
      this.retrying = false;
    }
  }
}

/** One named cache. */
export interface NamedCache<T> {
  get(key: string | number, loader: () => Promise<T | null>): Promise<T | null>;
  invalidate(key: string | number): Promise<void>;
}
