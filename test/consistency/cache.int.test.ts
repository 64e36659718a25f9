import { Cluster } from "ioredis";
import pino from "pino";
import { CacheRegistry } from "../../services/src/platform/cache";
import { ReadYourWrites } from "../../services/src/platform/read-your-writes";
import { RedisBreaker } from "../../services/src/platform/redis-breaker";
import { buildUser, call, replicaBase } from "../support/api";
import { allReplicasCounter } from "../support/metrics";
import { zip } from "../support/checked";
import { eventually, mysqlSocket } from "../stack/clients";
import { rootSql } from "../../infra/targets/local/components/mysql";
import { testAddresses, testTopology } from "../stack/test-stack";

/** Wait until the replica has applied everything the primary has (so the loader reads there). */
async function waitForReplica(): Promise<void> {
  const pos = (await rootSql(mysqlSocket("mysql-primary"), "SELECT @@global.gtid_binlog_pos")).trim();
  await rootSql(mysqlSocket("mysql-replica-1"), `SELECT MASTER_GTID_WAIT('${pos}', 10)`);
}

const loads = (cache: string) => allReplicasCounter("floodgate_cache_loads_total", { cache });
const dbQueries = () => allReplicasCounter("floodgate_db_query_duration_seconds_count");
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** Per replica, how much a counter grew from `before` to `after`. */
const growth = (after: number[], before: number[]) => zip(after, before).map(([a, b]) => a - b);

describe("the profile cache (L1 → Redis → MySQL)", () => {
  it("queries MySQL on the first read only; later reads hit L1 or Redis", async () => {
    const user = await buildUser();
    const loadsBefore = await loads("profile");
    const queriesBefore = await dbQueries();

    // The public profile: /me also reads the balance, which is never cached.
    const profile = `/users/${user.id}/profile`;
    expect((await call("GET", profile, { token: user.token, base: replicaBase(0) })).status).toBe(200);
    const loadsAfterFirst = await loads("profile");
    expect(growth(loadsAfterFirst, loadsBefore)[0]).toBe(1);
    expect(growth(await dbQueries(), queriesBefore)[0]).toBeGreaterThan(0);

    const queriesWarm = await dbQueries();
    for (let i = 0; i < 10; i++) {
      for (const base of [replicaBase(0), replicaBase(1)]) {
        expect((await call("GET", profile, { token: user.token, base })).body).toMatchObject({ id: user.id });
      }
    }
    expect(await loads("profile")).toEqual(loadsAfterFirst); // replica 1 found it in Redis, then in L1
    // Only the rate limiter and Redis ran; not one database query on either replica.
    expect(await dbQueries()).toEqual(queriesWarm);
  });

  it("clears every replica's L1 after an update, well before the 30 s L1 TTL", async () => {
    const user = await buildUser();
    for (const base of [replicaBase(0), replicaBase(1)]) await call("GET", "/me", { token: user.token, base });

    const started = Date.now();
    const patched = await call("PATCH", "/me", {
      token: user.token,
      body: { bio: "updated on replica 0" },
      base: replicaBase(0),
    });
    expect(patched.status).toBe(200);
    await eventually(
      async () => {
        const seen = await call<{ bio: string }>("GET", "/me", { token: user.token, base: replicaBase(1) });
        return seen.body.bio === "updated on replica 0" ? true : undefined;
      },
      5000,
      20,
    );
    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeLessThan(2000);
    expect(testTopology().api.cache.l1TtlMs).toBeGreaterThanOrEqual(30_000); // so TTL expiry cannot explain it
  });

  it("costs at most one database load per process for 500 concurrent reads of a cold key", async () => {
    const user = await buildUser();
    await waitForReplica();
    const before = await loads("profile");
    // Hold the replica's tables so the first load is slow and all 500 requests pile up behind it:
    // without single-flight every one of them would start its own load.
    // (As root: read_only rightly refuses the application's users even a table lock.)
    const held = rootSql(
      mysqlSocket("mysql-replica-1"),
      "LOCK TABLES floodgate.users WRITE, floodgate.profiles WRITE; SELECT SLEEP(1); UNLOCK TABLES;",
    );
    await new Promise((r) => setTimeout(r, 200));
    const answers = await Promise.all(Array.from({ length: 500 }, () => call("GET", `/users/${user.id}/profile`)));
    await held;
    expect(answers.filter((a) => a.status !== 200).map((a) => [a.status, a.body])).toEqual([]);
    const after = await loads("profile");
    const perProcess = growth(after, before);
    expect(perProcess.every((n) => n <= 1)).toBe(true);
    expect(sum(perProcess)).toBeGreaterThanOrEqual(1);
  });
});

describe("single-flight loading", () => {
  const t = testTopology();
  const redis = new Cluster(testAddresses().redis, {
    redisOptions: { username: "app", password: t.redis.users.app.password },
  });
  const registry = new CacheRegistry(
    redis,
    new RedisBreaker(),
    { l1TtlMs: 30_000, l1MaxEntries: 100, l2TtlSeconds: 60, negativeTtlSeconds: 5 },
    pino({ level: "silent" }),
  );
  afterAll(() => redis.disconnect());

  it("runs one loader for 500 concurrent reads of a cold key in one process", async () => {
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 100));
      return { answer: 42 };
    };
    const key = `cold${Date.now()}`;
    const values = await Promise.all(
      Array.from({ length: 500 }, () => registry.cache<{ answer: number }>("flight").get(key, loader)),
    );
    expect(calls).toBe(1);
    expect(values.every((v) => v?.answer === 42)).toBe(true);
  });
});

describe("the stale-set race", () => {
  const t = testTopology();
  const redis = new Cluster(testAddresses().redis, {
    redisOptions: { username: "app", password: t.redis.users.app.password },
  });
  const settings = { l1TtlMs: 30_000, l1MaxEntries: 100, l2TtlSeconds: 60, negativeTtlSeconds: 5 };
  const log = pino({ level: "silent" });
  const reader = new CacheRegistry(redis, new RedisBreaker(), settings, log); // process A
  const writer = new CacheRegistry(redis, new RedisBreaker(), settings, log); // process B

  beforeAll(() => Promise.all([reader.start(), writer.start()]));
  afterAll(async () => {
    await Promise.all([reader.close(), writer.close()]);
    redis.disconnect();
  });

  it("never lets a slow reader put back a value older than a concurrent writer's delete", async () => {
    const key = `k${Date.now()}`;
    let source = "v1";
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let loading!: () => void;
    const loaderStarted = new Promise<void>((resolve) => (loading = resolve));
    const slowLoader = async () => {
      const read = source; // the reader reads the old row...
      loading();
      await gate; // ...and is slow to put it in the cache
      return read;
    };

    const slowRead = reader.cache<string>("race").get(key, slowLoader);
    await loaderStarted;
    source = "v2"; // the writer commits the new row...
    await writer.cache<string>("race").invalidate(key); // ...and deletes the cache entry
    release();
    expect(await slowRead).toBe("v1"); // that read was concurrent with the write: an old answer is fine

    // But it must not have been cached: Redis holds nothing stale, and both processes now load v2.
    expect(await redis.get(`c:{race:${key}}`)).toBeNull();
    expect(await reader.cache<string>("race").get(key, async () => source)).toBe("v2");
    expect(await writer.cache<string>("race").get(key, async () => source)).toBe("v2");
  });
});

describe("invalidations a process missed", () => {
  const t = testTopology();
  const redis = new Cluster(testAddresses().redis, {
    redisOptions: { username: "app", password: t.redis.users.app.password },
  });
  const settings = { l1TtlMs: 30_000, l1MaxEntries: 100, l2TtlSeconds: 60, negativeTtlSeconds: 5 };
  const registry = new CacheRegistry(redis, new RedisBreaker(), settings, pino({ level: "silent" }));
  const subscribed = () => eventually(async () => registry.listening || undefined, 10_000, 20);

  beforeAll(() => registry.start());
  afterAll(async () => {
    await registry.close();
    redis.disconnect();
  });

  /** Loads through `registry`, counting loader calls. */
  const counted = (name: string) => {
    let loads = 0;
    const get = (key: string) => registry.cache<number>(name).get(key, async () => ++loads);
    // Without the Redis copy, a read the L1 cannot answer reaches the loader.
    const forgetL2 = (key: string) => redis.del(`c:{${name}:${key}}`);
    /** Wait until a read of `key` reaches the loader again: its L1 copy was dropped. */
    const reloaded = (key: string, since: number, timeoutMs: number, intervalMs: number) =>
      eventually(
        async () => {
          await get(key);
          return loads > since ? true : undefined;
        },
        timeoutMs,
        intervalMs,
      );
    return { get, forgetL2, reloaded, loads: () => loads };
  };

  /** An invalidation published by another process. */
  const invalidateElsewhere = (key: string) =>
    new CacheRegistry(redis, new RedisBreaker(), settings, pino({ level: "silent" })).cache("other").invalidate(key);

  /** Key "a" of cache `name`, read into L1 once subscribed and then deleted from Redis: only L1 holds it. */
  const onlyInL1 = async (name: string) => {
    await subscribed();
    const c = counted(name);
    await c.get("a");
    await c.get("a");
    await c.forgetL2("a");
    return { c, loads: c.loads() };
  };

  it("keeps serving L1 while the invalidation numbers arrive in order", async () => {
    const { c, loads } = await onlyInL1("seq-ok");
    await invalidateElsewhere("x");
    await new Promise((r) => setTimeout(r, 800)); // three sequence checks
    await c.get("a");
    expect(c.loads()).toBe(loads);
  });

  it("drops its whole L1 when a numbered invalidation never arrives (the counter moved on)", async () => {
    const { c, loads } = await onlyInL1("seq-lost");
    await redis.incr("{floodgate:cache}:seq"); // a message numbered, then lost on the way
    await c.reloaded("a", loads, 5_000, 100);
  });

  it("drops its whole L1 when the counter itself was lost (it stays below the last number received)", async () => {
    // A failover before the counter replicated: the new master counts from where it was.
    await invalidateElsewhere("y"); // at least one number received
    const { c, loads } = await onlyInL1("seq-reset");
    await redis.del("{floodgate:cache}:seq");
    await c.reloaded("a", loads, 3_000, 50);
  });

  it("drops its whole L1 when a message skips a number", async () => {
    const { c, loads } = await onlyInL1("seq-skip");
    // Number n+1 is lost; n+2 arrives, about another key. The counter moves with it, so only the
    // message itself can reveal the loss.
    const n = Number(await redis.get("{floodgate:cache}:seq"));
    const message = `${n + 2} ${JSON.stringify({ key: "seq-skip:zzz", origin: "test" })}`;
    await redis
      .multi()
      .set("{floodgate:cache}:seq", String(n + 2))
      .spublish("{floodgate:cache}:invalidate", message)
      .exec();
    await c.reloaded("a", loads, 2_000, 20);
  });

  it("tells every process even while the writer's breaker still cools down after an outage", async () => {
    await subscribed();
    // The writer's breaker opened during an outage; Redis is back, and this process (whose breaker
    // closed) has the old value in L1.
    const writerBreaker = new RedisBreaker(60_000);
    await writerBreaker.run(() => Promise.reject(new Error("Connection is closed."))).catch(() => undefined);
    expect(writerBreaker.open).toBe(true);
    const writer = new CacheRegistry(redis, writerBreaker, settings, pino({ level: "silent" }));
    let source = "old";
    const read = () => registry.cache<string>("cooling").get("k", async () => source);
    expect(await read()).toBe("old");
    await redis.del("c:{cooling:k}"); // what this process answers now comes from its L1 only
    expect(await read()).toBe("old");

    source = "new";
    await writer.cache<string>("cooling").invalidate("k");
    // In one process the message may be read just after the publisher's reply: allow it a moment.
    // Skipped by the writer, the invalidation would wait for its breaker (a minute here).
    await eventually(async () => ((await read()) === "new" ? true : undefined), 1_000, 10);
  });

  it("records read-your-writes marks even while the writer's breaker still cools down", async () => {
    const breaker = new RedisBreaker(60_000);
    await breaker.run(() => Promise.reject(new Error("Connection is closed."))).catch(() => undefined);
    const scope = `cooling-${Date.now()}`;
    await new ReadYourWrites(redis, breaker).recordWrite(scope, "0-1-42");
    expect(await new ReadYourWrites(redis, new RedisBreaker()).lastWrite(scope)).toBe("0-1-42");
  });
});
