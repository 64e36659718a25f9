import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { saleKeys } from "../../services/src/modules/flash-sales/keys";
import { SaleStore } from "../../services/src/modules/flash-sales/sale-store";
import type { LoadPlan } from "../load/closed";
import { createSale, endSale } from "../load/fixtures";
import { roundRobin } from "../load/round-robin";
import { appRedis, entryUrl, onPrimary } from "../load/target";
import { closed, type BenchContext } from "./measure";
import type { Ceiling } from "./results";

const STATIC_FILE = "bench-ceiling.txt";

/** nginx serving a small static file from the same location as the catalog. */
export async function nginxStaticCeiling(b: BenchContext): Promise<Ceiling> {
  const staticDir = b.target.staticDir;
  if (!staticDir) throw new Error(`nginx's static files of ${b.target.description} are nowhere this machine writes`);
  fs.writeFileSync(path.join(staticDir, STATIC_FILE), `${"floodgate ".repeat(6)}\n`);
  const plan: LoadPlan = {
    url: entryUrl(b.target),
    // Sent like the catalog's requests (and every browser's); this file has no gzipped copy.
    request: () => ({ method: "GET", path: `/static/${STATIC_FILE}`, headers: { "accept-encoding": "gzip" } }),
    expected: (key) => key === "200",
  };
  const run = await closed(b, plan);
  return {
    id: "nginx-static",
    title: "nginx, static file",
    path: `GET /static/${STATIC_FILE} (61 B)`,
    rps: run.rps,
    run,
  };
}

/** nginx → a Koa route doing no I/O, on the same API processes as every scenario. */
export async function koaBareCeiling(b: BenchContext): Promise<Ceiling> {
  const plan: LoadPlan = {
    url: entryUrl(b.target),
    request: () => ({ method: "GET", path: "/api/v1/health/live" }),
    expected: (key) => key === "200",
  };
  const run = await closed(b, plan);
  return { id: "koa-bare", title: "nginx → bare Koa route", path: "GET /api/v1/health/live", rps: run.rps, run };
}

/**
 * The admission Lua script run directly by a Redis Cluster client, as many at once as the runs have
 * connections. The sale exists only in Redis (an id no MySQL row has), so no reconciler or worker
 * acts on its reservations; its keys are deleted afterwards.
 */
export async function redisLuaCeiling(b: BenchContext): Promise<Ceiling> {
  const redis = appRedis(b.target);
  const store = new SaleStore(redis);
  const saleId = 900_000_000 + Math.floor(Math.random() * 1_000_000);
  const now = Date.now();
  await store.load({
    id: saleId,
    name: "redis ceiling",
    priceCents: 1,
    stock: 1_000_000_000,
    remaining: 1_000_000_000,
    perUserLimit: 100,
    startsAt: new Date(now - 1000),
    endsAt: new Date(now + 3_600_000),
  });
  let done = 0;
  const started = performance.now();
  const until = started + b.settings.durationSeconds * 1000;
  await b.cpu.track(() =>
    Promise.all(
      Array.from({ length: b.settings.connections }, async (_, c) => {
        for (let i = c; performance.now() < until; i += b.settings.connections) {
          await store.admit(saleId, Date.now(), 1 + (i % 1_000_000), randomUUID(), randomUUID());
          done++;
        }
      }),
    ),
  );
  const rps = done / ((performance.now() - started) / 1000);
  await redis.del(...Object.values(saleKeys(saleId)));
  redis.disconnect();
  return { id: "redis-lua", title: "Redis, admission Lua script directly", path: "EVAL admit (ioredis Cluster)", rps };
}

/**
 * The naive baseline: the purchase as one row-locked MySQL transaction per request (UPDATE … WHERE
 * remaining > 0, then INSERT), no cache, no queue, behind the same nginx. Checked like a scenario.
 */
export async function naiveBaselineCeiling(b: BenchContext): Promise<Ceiling> {
  const saleId = await createSale(b.target, { stock: 1_000_000, perUserLimit: 100, name: "naive baseline" });
  let created = 0;
  const plan: LoadPlan = {
    url: entryUrl(b.target),
    request: (i) => ({
      method: "POST",
      path: `/api/v1/naive/flash-sales/${saleId}/purchases`,
      headers: {
        authorization: `Bearer ${roundRobin(b.users, i, "bench user").token}`,
        "idempotency-key": randomUUID(),
      },
    }),
    expected: (key) => key === "201",
    // A retry of a request the run cut off answers duplicate_request when its first attempt committed.
    onAnswer: (_, status, body) => void ((status === 201 || body.includes('"duplicate_request"')) && created++),
  };
  const run = await closed(b, plan);
  const { orders, remaining, maxPerUser } = await onPrimary(b.target, async (conn) => {
    const [[row]] = (await conn.query(
      `SELECT remaining, (SELECT COUNT(*) FROM orders WHERE flash_sale_id = f.id) AS orders,
              (SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM orders WHERE flash_sale_id = ?
                 GROUP BY user_id) AS u) AS maxPerUser
         FROM flash_sales f WHERE id = ?`,
      [saleId, saleId],
    )) as unknown as [Array<{ remaining: number; orders: number; maxPerUser: number }>];
    if (!row) throw new Error(`no flash sale ${saleId}`);
    return { orders: Number(row.orders), remaining: Number(row.remaining), maxPerUser: Number(row.maxPerUser) };
  });
  await endSale(b.target, saleId);
  return {
    id: "naive-baseline",
    title: "naive baseline: MySQL row lock per purchase",
    path: "POST /api/v1/naive/flash-sales/:id/purchases",
    rps: run.rps,
    run,
    invariants: [
      {
        name: "no oversell",
        ok: orders + remaining === 1_000_000,
        detail: `${orders} orders + ${remaining} remaining, stock 1000000`,
      },
      { name: "every 201 persisted", ok: orders === created, detail: `${created} answered 201, ${orders} orders` },
      { name: "per-user limit", ok: maxPerUser <= 100, detail: `most by one user ${maxPerUser}, limit 100` },
    ],
  };
}
