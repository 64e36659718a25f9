import type { Cluster } from "ioredis";
import type Koa from "koa";
import { CacheRegistry } from "./cache";
import type { ServiceConfig } from "./config";
import { Database } from "./db";
import type { Logger } from "./log";
import { MessageBroker } from "./mq";
import { rateLimit } from "./rate-limit";
import { ReadYourWrites } from "./read-your-writes";
import { RedisBreaker } from "./redis-breaker";
import { createRedis } from "./redis";
import { Tokens } from "./tokens";
import { Tracking } from "./tracking";

/** Everything a feature module may use, built once per process. */
export interface Platform {
  config: ServiceConfig;
  log: Logger;
  db: Database;
  redis: Cluster;
  caches: CacheRegistry;
  mq: MessageBroker;
  tokens: Tokens;
  tracking: Tracking;
  limits: {
    /** Per client address, on every API route. */
    perIp: Koa.Middleware;
    /** Per authenticated user (after requireAuth). */
    perUser: Koa.Middleware;
    /** Login attempts per client address. */
    logins: Koa.Middleware;
    /** Sign-ups per client address. */
    signups: Koa.Middleware;
  };
  /** False once shutdown has begun: health answers 503 so the load balancer drains this replica. */
  ready: boolean;
}

/** Connect every client; none of them fails start-up when its server is down (they reconnect). */
export async function createPlatform(config: ServiceConfig, log: Logger): Promise<Platform> {
  const redis = createRedis(config);
  redis.on("error", (err: Error) => log.debug({ err: err.message }, "redis error"));
  const breaker = new RedisBreaker();
  const db = new Database(config, new ReadYourWrites(redis, breaker), {}, log);
  const caches = new CacheRegistry(
    redis,
    breaker,
    {
      l1TtlMs: config.CACHE_L1_TTL_MS,
      l1MaxEntries: config.CACHE_L1_MAX_ENTRIES,
      l2TtlSeconds: config.CACHE_L2_TTL_SECONDS,
      negativeTtlSeconds: config.CACHE_NEGATIVE_TTL_SECONDS,
    },
    log,
  );
  await caches.start();
  const mq = new MessageBroker(config, log);
  await mq.start();
  return {
    config,
    log,
    db,
    redis,
    caches,
    mq,
    tokens: new Tokens(config.JWT_SECRET, config.TOKEN_TTL_SECONDS),
    tracking: new Tracking(mq, log),
    limits: {
      perIp: rateLimit(
        redis,
        breaker,
        { name: "ip", points: config.RATE_LIMIT_PER_IP_PER_SECOND, durationSeconds: 1 },
        "ip",
      ),
      perUser: rateLimit(
        redis,
        breaker,
        { name: "user", points: config.RATE_LIMIT_PER_USER_PER_SECOND, durationSeconds: 1 },
        "user",
      ),
      logins: rateLimit(
        redis,
        breaker,
        { name: "login", points: config.LOGINS_PER_MINUTE_PER_IP, durationSeconds: 60 },
        "ip",
      ),
      signups: rateLimit(
        redis,
        breaker,
        { name: "signup", points: config.SIGNUPS_PER_MINUTE_PER_IP, durationSeconds: 60 },
        "ip",
      ),
    },
    ready: true,
  };
}

/** Close every client (after the HTTP server stopped taking requests). */
export async function closePlatform(p: Platform): Promise<void> {
  await Promise.allSettled([p.caches.close(), p.db.close(), p.mq.close()]);
  p.redis.disconnect();
}
