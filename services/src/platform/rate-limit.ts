import type { Cluster } from "ioredis";
import type Koa from "koa";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitedError } from "./errors";
import type { RedisBreaker } from "./redis-breaker";
import type { Principal } from "./tokens";

/** A named limit: `points` per `durationSeconds`. */
export interface Limit {
  name: string;
  points: number;
  durationSeconds: number;
}

/** Key a request by the client address (nginx sets X-Forwarded-For from $remote_addr) or by its user. */
export type KeyBy = "ip" | "user";

/**
 * A Redis-backed limiter shared by every API replica; while Redis is unreachable an in-process
 * limiter with the same budget takes over. Redis calls go through the breaker, so an outage
 * costs one timeout, not one per request.
 */
export function rateLimit(redis: Cluster, breaker: RedisBreaker, limit: Limit, keyBy: KeyBy): Koa.Middleware {
  const local = new RateLimiterMemory({ points: limit.points, duration: limit.durationSeconds });
  const shared = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `rl:${limit.name}`,
    points: limit.points,
    duration: limit.durationSeconds,
    rejectIfRedisNotReady: true,
  });
  return async function limited(ctx, next) {
    const key = keyBy === "ip" ? ctx.ip : String((ctx.state.user as Principal).userId);
    try {
      await breaker
        .run(() => shared.consume(key))
        .catch((err: unknown) => {
          if (err instanceof RateLimiterRes) throw err; // over the limit: Redis answered
          // Redis unreachable (or the breaker open): the in-process budget decides, and the failure
          // opened the breaker so the next requests skip Redis instead of waiting out a timeout.
          return local.consume(key);
        });
    } catch (err) {
      if (err instanceof RateLimiterRes) throw RateLimitedError(err.msBeforeNext / 1000);
      throw err;
    }
    await next();
  };
}
