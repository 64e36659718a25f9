import type { Cluster } from "ioredis";
import { LRUCache } from "lru-cache";
import { evalScript } from "./lua";

/** A named limit: `points` per `durationSeconds`. */
export interface Limit {
  name: string;
  points: number;
  durationSeconds: number;
}

// Take up to ARGV[1] points of a fixed window's budget ARGV[2]; answer how many were within it.
// The counter expires (ARGV[3] ms) a window after its own.
const TAKE = `
local ask = tonumber(ARGV[1])
local after = redis.call('INCRBY', KEYS[1], ask)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
local granted = tonumber(ARGV[2]) - (after - ask)
if granted < 0 then return 0 end
if granted > ask then return ask end
return granted
`;

/** The fixed window `nowMs` falls in: its number since the epoch (the counter's key carries it). */
export function windowOf(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs);
}

/** Ms from `nowMs` until `window` ends: what a refused request is told to wait (at least 1, also once it ended). */
export function msUntilWindowEnds(window: number, windowMs: number, nowMs: number): number {
  return Math.max(1, (window + 1) * windowMs - nowMs);
}

/**
 * A request's answer from its batch: the `position`-th request (from 0) of a batch Redis granted
 * `granted` points is admitted (0) when within them, else refused until the next window.
 */
export function batchAnswer(position: number, granted: number, untilNextMs: number): number {
  return position < granted ? 0 : untilNextMs;
}

interface KeyWindow {
  window: number;
  /** Redis granted a batch less than it asked: the window's budget is gone for every process. */
  exhausted: boolean;
  /** The batch collecting this turn's requests, until it goes to Redis. */
  batch: { asked: number; granted: Promise<number> } | null;
}

/**
 * A fixed-window limit whose counter lives in Redis, shared by every API replica, taken in
 * batches: the requests of one key read in the same turn of the event loop ask Redis for their
 * points together, one call for all of them. A quiet key costs one Redis call per request, as an
 * unbatched limiter would; a hot one (an address behind which thousands buy at once, a bot) one
 * per turn; once Redis says a window's budget is gone, its remaining requests are refused here
 * without asking again.
 *
 * Exact: Redis decides every batch, so no window grants more than `points` across all processes,
 * and a batch asks for exactly its requests, so none is refused while the budget lasts. (Leasing
 * points ahead of demand would save more calls, but a point held by one replica is refused to the
 * same user on another: a test of 50 parallel purchases at a 50/s limit caught two 429s.)
 *
 * Written here because rate-limiter-flexible (the in-process fallback) sends one Redis call per
 * request, and its in-memory block only spares calls for keys already over their limit.
 */
export class BatchedLimiter {
  private readonly windows: LRUCache<string, KeyWindow>;
  private readonly windowMs: number;

  constructor(
    private readonly redis: Cluster,
    private readonly limit: Limit,
    /** How each Redis call is made (through the breaker). */
    private readonly call: <T>(redisCall: () => Promise<T>) => Promise<T> = (redisCall) => redisCall(),
  ) {
    this.windowMs = limit.durationSeconds * 1000;
    this.windows = new LRUCache({ max: 100_000, ttl: 2 * this.windowMs });
  }

  /**
   * Take one point of `key`'s budget. Resolves with 0 when taken, or with the ms until the next
   * window when the budget is gone; rejects when Redis could not be asked.
   */
  async take(key: string): Promise<number> {
    const window = windowOf(Date.now(), this.windowMs);
    let entry = this.windows.get(key);
    if (!entry || entry.window !== window) {
      entry = { window, exhausted: false, batch: null };
      this.windows.set(key, entry);
    }
    const untilNext = () => msUntilWindowEnds(window, this.windowMs, Date.now());
    if (entry.exhausted) return untilNext();
    if (!entry.batch) {
      const current = entry;
      const batch: NonNullable<KeyWindow["batch"]> = { asked: 0, granted: Promise.resolve(0) };
      // After this turn's poll phase, so every request of the key read in it joins the batch.
      batch.granted = new Promise((resolve) => setImmediate(resolve)).then(async () => {
        current.batch = null; // later requests form the next batch, which may go while this one is out
        const granted = await this.ask(key, window, batch.asked);
        if (granted < batch.asked) current.exhausted = true;
        return granted;
      });
      entry.batch = batch;
    }
    const batch = entry.batch;
    const position = batch.asked++;
    return batchAnswer(position, await batch.granted, untilNext());
  }

  private async ask(key: string, window: number, points: number): Promise<number> {
    const counter = `rl:${this.limit.name}:${key}:${window}`;
    return Number(
      await this.call(() => evalScript(this.redis, TAKE, [counter], [points, this.limit.points, 2 * this.windowMs])),
    );
  }
}
