import type { Cluster } from "ioredis";
import type Koa from "koa";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitedError } from "./errors";
import { BatchedLimiter, type Limit } from "./batched-limiter";
import type { RedisBreaker } from "./redis-breaker";
import type { Principal } from "./tokens";

/** Key a request by the client address (nginx sets X-Forwarded-For from $remote_addr) or by its user. */
export type KeyBy = "ip" | "user";

/**
 * A limit shared by every API replica through Redis (taken in batches, see BatchedLimiter); while
 * Redis is unreachable an in-process limiter with the same budget takes over. Redis calls go
 * through the breaker, so an outage costs one timeout, not one per request.
 */
export function rateLimit(redis: Cluster, breaker: RedisBreaker, limit: Limit, keyBy: KeyBy): Koa.Middleware {
  const local = new RateLimiterMemory({ points: limit.points, duration: limit.durationSeconds });
  const shared = new BatchedLimiter(redis, limit, (call) => breaker.run(call));
  return async function limited(ctx, next) {
    const key = keyBy === "ip" ? ctx.ip : String((ctx.state.user as Principal).userId);
    // Redis unreachable (or the breaker open): the in-process budget decides, and the failure opened
    // the breaker so the next requests skip Redis instead of waiting out a timeout.
    const waitMs = await shared.take(key).catch(() =>
      local.consume(key).then(
        () => 0,
        (err: unknown) => {
          if (err instanceof RateLimiterRes) return err.msBeforeNext;
          throw err;
        },
      ),
    );
    if (waitMs > 0) throw RateLimitedError(waitMs / 1000);
    await next();
  };
}
