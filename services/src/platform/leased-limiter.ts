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
  /** Size of the next lease asked for: doubles with each lease of the window. */
  next: number;
  /** Redis granted less than asked: the window's budget is gone for every process. */
  exhausted: boolean;
  /** Requests waiting on `pending`. */
  waiting: number;
  pending: Promise<void> | null;
}

/**
 * A fixed-window limit whose counter lives in Redis, shared by every API replica, taken in
 * leases: a key's first request of a window takes one point, and as long as the same key keeps
 * coming in that window each lease is twice the last (and at least what is queued), up to
 * `points / 16`. A quiet key costs one Redis call per request, as an unleased limiter would; a hot
 * one (an address behind which thousands buy at once, a bot) costs one per lease; once Redis says a
 * window's budget is gone, its remaining requests are refused here without asking again.
 *
 * Never more than `points` are granted per window across all processes (Redis decides every
 * lease); what a process leased and did not use by the window's end is lost, so the most a
 * window can under-admit is each process's last lease.
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
    this.maxLease = Math.min(1000, Math.max(1, Math.floor(limit.points / 16)));
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
        lease = { window, left: 0, next: 1, exhausted: false, waiting: 0, pending: null };
        this.leases.set(key, lease);
      }
      if (lease.left > 0) {
        lease.left--;
        return 0;
      }
      if (lease.exhausted) return (window + 1) * this.windowMs - now;
      if (!lease.pending) {
        const current = lease;
        current.pending = this.extend(key, current).finally(() => (current.pending = null));
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
    // The request that starts a lease is not counted in `waiting` yet: + 1.
    const ask = Math.min(this.maxLease, Math.max(lease.next, lease.waiting + 1));
    const counter = `rl:${this.limit.name}:${key}:${lease.window}`;
    const granted = Number(
      await this.call(() => evalScript(this.redis, LEASE, [counter], [ask, this.limit.points, 2 * this.windowMs])),
    );
    lease.left += granted;
    lease.next = Math.min(this.maxLease, lease.next * 2);
    if (granted < ask) lease.exhausted = true;
  }
}
