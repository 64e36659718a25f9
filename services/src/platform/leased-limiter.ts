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
const LEASE = `
local ask = tonumber(ARGV[1])
local after = redis.call('INCRBY', KEYS[1], ask)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
local granted = tonumber(ARGV[2]) - (after - ask)
if granted < 0 then return 0 end
if granted > ask then return ask end
return granted
`;

interface Lease {
  window: number;
  /** Points taken from Redis and not yet used by this process. */
  left: number;
  /** Redis granted less than asked: the window's budget is gone for every process. */
  exhausted: boolean;
  /** Requests waiting on `pending`. */
  waiting: number;
  pending: Promise<void> | null;
}

/**
 * A fixed-window limit whose counter lives in Redis, shared by every API replica, taken in
 * leases: the requests of one key that arrive in the same turn of the event loop, or while the
 * key's previous lease is on its way, are taken from Redis together, one point each. A quiet key
 * costs one Redis call per request, as an unleased limiter would; a hot one (an address behind
 * which thousands buy at once, a bot) one per lease; once Redis says a window's budget is gone,
 * its remaining requests are refused here without asking again.
 *
 * Exact: a lease is exactly the requests waiting for it, so every point taken is used, and Redis
 * decides every lease, so no window grants more than `points` across all processes — nor fewer to
 * a key that asks for them. (Leasing ahead of demand would save more calls, but a point leased
 * ahead by one replica is refused to the same user on another: a test of 50 parallel purchases at a
 * 50/s limit caught two 429s.)
 *
 * Written here because rate-limiter-flexible (the in-process fallback) sends one Redis call per
 * request, and its in-memory block only spares calls for keys already over their limit.
 */
export class LeasedLimiter {
  private readonly leases: LRUCache<string, Lease>;
  private readonly windowMs: number;
  readonly maxLease: number;

  constructor(
    private readonly redis: Cluster,
    private readonly limit: Limit,
    /** How each Redis call is made (through the breaker). */
    private readonly call: <T>(redisCall: () => Promise<T>) => Promise<T> = (redisCall) => redisCall(),
  ) {
    this.windowMs = limit.durationSeconds * 1000;
    this.maxLease = Math.min(1000, limit.points);
    this.leases = new LRUCache({ max: 100_000, ttl: 2 * this.windowMs });
  }

  /**
   * Take one point of `key`'s budget. Resolves with 0 when taken, or with the ms until the next
   * window when the budget is gone; rejects when Redis could not be asked.
   */
  async take(key: string): Promise<number> {
    for (;;) {
      const now = Date.now();
      const window = Math.floor(now / this.windowMs);
      let lease = this.leases.get(key);
      if (!lease || lease.window !== window) {
        lease = { window, left: 0, exhausted: false, waiting: 0, pending: null };
        this.leases.set(key, lease);
      }
      if (lease.left > 0) {
        lease.left--;
        return 0;
      }
      if (lease.exhausted) return (window + 1) * this.windowMs - now;
      if (!lease.pending) {
        // After this turn's poll phase, so every request of the key read in it joins the lease.
        const current = lease;
        current.pending = new Promise((resolve) => setImmediate(resolve))
          .then(() => this.extend(key, current))
          .finally(() => (current.pending = null));
      }
      lease.waiting++;
      try {
        await lease.pending;
      } finally {
        lease.waiting--;
      }
    }
  }

  private async extend(key: string, lease: Lease): Promise<void> {
    const ask = Math.min(this.maxLease, Math.max(1, lease.waiting));
    const counter = `rl:${this.limit.name}:${key}:${lease.window}`;
    const granted = Number(
      await this.call(() => evalScript(this.redis, LEASE, [counter], [ask, this.limit.points, 2 * this.windowMs])),
    );
    lease.left += granted;
    if (granted < ask) lease.exhausted = true;
  }
}
