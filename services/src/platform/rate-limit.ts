import type { Cluster } from "ioredis";
import type Koa from "koa";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitedError } from "./errors";
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
 * limiter with the same budget takes over (rate-limiter-flexible's insurance limiter).
 */
export function rateLimit(redis: Cluster, limit: Limit, keyBy: KeyBy): Koa.Middleware {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `rl:${limit.name}`,
    points: limit.points,
    duration: limit.durationSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points: limit.points, duration: limit.durationSeconds }),
  });
  return async function limited(ctx, next) {
    const key = keyBy === "ip" ? ctx.ip : String((ctx.state.user as Principal).userId);
    try {
      await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw RateLimitedError(err.msBeforeNext / 1000);
      throw err;
    }
    await next();
  };
}
