/**
 * cache: the API's shared (L2) cache in the Redis Cluster, namespace by namespace — how many entries
 * each holds (SCAN on every master, never KEYS); `--flush` deletes a namespace's entries; `--warm`
 * loads what can be loaded through the services' own read paths. Blast radius: a flushed entry is
 * reloaded from MariaDB on its next read, so the database takes those reads until the cache is warm.
 */
import os from "node:os";
import type { Cluster, Redis } from "ioredis";
import pino from "pino";
import { retry, spinner } from "zx";
import { serviceEnv } from "../infra/topology";
import { parseServiceEnv } from "../infra/topology/service-env";
import { CatalogService } from "../services/src/modules/catalog/service";
import { FsStaticBucket } from "../services/src/modules/catalog/static-bucket";
import { recentSales } from "../services/src/modules/flash-sales/repository";
import { FlashSaleService } from "../services/src/modules/flash-sales/service";
import { ordersPage } from "../services/src/modules/orders/service";
import { loadProfile } from "../services/src/modules/profiles/service";
import { signInHistory } from "../services/src/modules/sign-ins/service";
import { HttpError } from "../services/src/platform/errors";
import { closePlatform, createPlatform, type Platform } from "../services/src/platform/platform";
import { adminCluster, flushNamespaces, masters, scan, type CacheNamespace } from "./lib/cache-store";
import { COMMON_HELP, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";
import { openStack, type RunbookStack } from "./lib/stack";

/**
 * How one namespace is warmed: every id it can hold is known (global: the load says what it did
 * and how many entries it should have left in Redis), or only the ids seen in it (per user).
 */
type Warmer =
  | { scope: "global"; warm: (p: Platform) => Promise<{ note: string; entries: number }> }
  | { scope: "per-user"; warm: WarmOne };
type WarmOne = (p: Platform, id: number) => Promise<unknown>;

/** Every namespace (lib/cache-store.ts) with the service read path that fills it. */
const NAMESPACES: Record<CacheNamespace, Warmer> = {
  catalog: {
    scope: "global",
    warm: async (p) => ({ note: `${(await catalogService(p).catalog()).products.length} products`, entries: 1 }),
  },
  "catalog-product": {
    scope: "global",
    warm: async (p) => {
      const service = catalogService(p);
      const ids = (await service.catalog()).products.map((x) => x.id);
      await inBatches(ids, (id) => service.product(id));
      return { note: `${ids.length} active products`, entries: ids.length };
    },
  },
  "catalog-version": {
    scope: "global",
    warm: (p) =>
      catalogService(p)
        .version()
        .then(
          (v) => ({ note: `version ${v.version}`, entries: 1 }),
          (err: unknown) => {
            if (!(err instanceof HttpError && err.status === 404)) throw err;
            return { note: "not published yet (cached as missing)", entries: 1 };
          },
        ),
  },
  "flash-sale": {
    scope: "global",
    warm: async (p) => {
      const service = new FlashSaleService(p);
      const ids = (await recentSales(p.db, 0)).map((s) => s.id);
      await inBatches(ids, (id) => service.get(id));
      return { note: `${ids.length} scheduled or running sales`, entries: ids.length };
    },
  },
  profile: { scope: "per-user", warm: (p, id) => loadProfile(p, id) },
  orders: { scope: "per-user", warm: (p, id) => ordersPage(p, id, { limit: 20 }) },
  "sign-ins": { scope: "per-user", warm: (p, id) => signInHistory(p, id, 1) },
};

const HELP = `usage: npm run runbook -- cache [--namespace NS] [--flush] [--warm] [options]

Counts, per cache namespace, the entries the API keeps in the Redis Cluster (L2) — SCAN on every
master, never KEYS. Namespaces:
${Object.keys(NAMESPACES).join(", ")}.

  --namespace NS   only this namespace (default: all of them)
  --flush          with --apply: delete the namespace's entries: one UNLINK per key, batched per
                   master (each key is its own hash slot), together with a bump of the entry's
                   version counter as the services' own invalidation does, so a read already in
                   flight cannot put the old value back. Each API process's in-process (L1) copy
                   is not reached: it expires within CACHE_L1_TTL_MS.
  --warm           with --apply: load entries through the services' own read paths (as an API
                   process would on a miss): catalog, catalog-product, catalog-version and
                   flash-sale completely (from the database); profile, orders and sign-ins are per
                   user and are warmed only for the users whose entries this run found (so
                   --flush --warm refreshes exactly what was cached); other users fill on their
                   first read. Only Redis (L2) is warmed; each API process fills its L1 from it.
                   A load's copy is dropped when an invalidation or a Redis timeout races it (and,
                   after a timeout, while the services' Redis breaker stays open: 1 s), so the
                   warm-up then counts what Redis holds and loads again while entries are missing
                   (5 loads at most, 1.5 s apart, a load that failed counting as one); still
                   missing after that is a failure (exit 1).

${COMMON_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const { options, values, help } = parseRunbookArgs(argv, {
    namespace: { type: "string" },
    flush: { type: "boolean", default: false },
    warm: { type: "boolean", default: false },
  });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const only = values.namespace === undefined ? undefined : String(values.namespace);
  if (only !== undefined && !(only in NAMESPACES))
    throw new UsageError(`--namespace ${only}: unknown cache namespace (known: ${Object.keys(NAMESPACES).join(", ")})`);
  const namespaces = (only ? [only] : Object.keys(NAMESPACES)) as CacheNamespace[];
  const stack = openStack(options);
  const book = new Runbook("cache", options);
  const l1TtlMs = stack.topology.api.cache.l1TtlMs;

  // Check
  const cluster = adminCluster(stack);
  try {
    book.step(`counting cache entries on every Redis master (SCAN MATCH c:{…})`);
    let counts: Map<string, Count>;
    try {
      counts = await countEntries(await masters(cluster));
    } catch (err) {
      book.check("redis cluster", false, (err as Error).message);
      return book.finish(false);
    }
    for (const ns of namespaces) {
      const c = counts.get(ns) ?? emptyCount();
      book.check(`namespace ${ns}`, true, `${c.ids.size} entries (+${c.versions} version counters)`);
    }

    // Apply
    let healthy = true;
    if (values.flush) healthy = (await flush(book, cluster, namespaces, counts, l1TtlMs)) && healthy;
    if (values.warm) healthy = (await warm(book, stack, cluster, namespaces, counts)) && healthy;

    // Verify
    if (options.apply && (values.flush || values.warm)) {
      book.step("counting again");
      const after = await countEntries(await masters(cluster));
      for (const ns of namespaces)
        book.check(`namespace ${ns} now`, true, `${after.get(ns)?.ids.size ?? 0} entries (the API refills on reads)`);
    }
    return book.finish(healthy);
  } finally {
    cluster.disconnect();
  }
}

/** What a namespace holds: the ids of its entries, and how many version counters. */
interface Count {
  ids: Set<string>;
  versions: number;
}
const emptyCount = (): Count => ({ ids: new Set(), versions: 0 });

// c:{<namespace>:<id>} or its version counter c:{<namespace>:<id>}:ver (services/src/platform/cache.ts).
const KEY = /^c:\{([^:{}]+):(.*)\}(:ver)?$/;

/** The cache entries on every master, by namespace. */
async function countEntries(all: Redis[]): Promise<Map<string, Count>> {
  const out = new Map<string, Count>();
  for (const m of all)
    for await (const key of scan(m, "c:{*")) {
      const [, namespace, id, version] = KEY.exec(key) ?? [];
      if (namespace === undefined || id === undefined) continue; // not a cache key
      const c = out.get(namespace) ?? emptyCount();
      if (version) c.versions += 1;
      else c.ids.add(id);
      out.set(namespace, c);
    }
  return out;
}

async function flush(
  book: Runbook,
  cluster: Cluster,
  namespaces: string[],
  counts: Map<string, Count>,
  l1TtlMs: number,
): Promise<boolean> {
  let ok = true;
  for (const ns of namespaces) {
    const n = counts.get(ns)?.ids.size ?? 0;
    if (n === 0) {
      book.check(`flush ${ns}`, true, "nothing cached in Redis");
      continue;
    }
    ok =
      (await book.act(`flush ${ns}: unlink its ${n} entries from Redis`, async () => {
        const { unlinked } = await flushNamespaces(cluster, [ns]);
        book.check(
          `flushed ${ns}`,
          true,
          `${unlinked} entries unlinked; in-process (L1) copies in each API process expire within CACHE_L1_TTL_MS = ${l1TtlMs} ms`,
        );
      })) && ok;
  }
  return ok || !book.options.apply;
}

/**
 * How many times a warm-up loads a namespace while Redis holds fewer entries than it loaded, and how
 * far apart: longer than the services' Redis breaker stays open after a timeout (redis-breaker.ts,
 * 1 s), during which the cache writes nothing to Redis — on a loaded Docker host three loads in a
 * row found it open.
 */
const WARM_ATTEMPTS = 5;
const WARM_DELAY = "1500ms";

async function warm(
  book: Runbook,
  stack: RunbookStack,
  cluster: Cluster,
  namespaces: CacheNamespace[],
  counts: Map<string, Count>,
): Promise<boolean> {
  let platform: Platform | undefined;
  const connect = async () => (platform ??= await servicePlatform(stack));
  // A load's copy reaches Redis only if nothing invalidated the entry meanwhile and the write did
  // not time out (services/src/platform/cache.ts drops it silently: the next read loads again).
  // So a warm-up counts what Redis holds afterwards, and loads again while entries are missing.
  const held = async (ns: string) => (await countEntries(await masters(cluster))).get(ns)?.ids.size ?? 0;
  const warmUntilHeld = async (ns: string, load: () => Promise<{ note: string; entries: number }>) => {
    let attempt = 0;
    let loaded = { note: "", entries: 0 };
    let inRedis = 0;
    const missing = new Error("entries missing");
    const loadAndCount = async () => {
      attempt += 1;
      loaded = await load();
      inRedis = await held(ns);
      if (inRedis < loaded.entries) throw missing; // zx's retry loads again (a failed load too)
    };
    await spinner(`warming ${ns}`, () => retry(WARM_ATTEMPTS, WARM_DELAY, loadAndCount)).catch((err: Error) => {
      if (err !== missing) throw err;
      throw new Error(
        `${loaded.note}, but Redis holds ${inRedis} of ${loaded.entries} entries after ${attempt} loads (each raced an invalidation or a Redis timeout); the API fills the rest on reads`,
      );
    });
    book.check(
      `warmed ${ns}`,
      true,
      `${loaded.note}; Redis holds ${inRedis} entries${attempt > 1 ? ` (after ${attempt} loads)` : ""}`,
    );
  };
  let ok = true;
  try {
    for (const ns of namespaces) {
      const warmer = NAMESPACES[ns];
      if (warmer.scope === "global") {
        ok =
          (await book.act(`warm ${ns} through the service's read path`, async () => {
            const p = await connect();
            await warmUntilHeld(ns, () => warmer.warm(p));
          })) && ok;
        continue;
      }
      const ids = [...(counts.get(ns)?.ids ?? [])].map(Number).filter(Number.isInteger);
      if (ids.length === 0) {
        book.check(
          `warm ${ns}`,
          true,
          "not warmed: entries are per user and none were cached when this run began, so there is no list of users to load; they fill on each user's first read",
        );
        continue;
      }
      ok =
        (await book.act(`warm ${ns} for the ${ids.length} users it held`, async () => {
          const p = await connect();
          await warmUntilHeld(ns, async () => {
            await inBatches(ids, (id) => warmer.warm(p, id));
            return { note: `${ids.length} users read through the service`, entries: ids.length };
          });
        })) && ok;
    }
  } finally {
    if (platform) await closePlatform(platform);
  }
  return ok || !book.options.apply;
}

/** The API's own platform (app credentials, the same settings), in this process, for its read paths. */
async function servicePlatform(stack: RunbookStack): Promise<Platform> {
  const { topology, addresses } = stack;
  const env = serviceEnv(
    topology,
    addresses,
    { id: "runbook-cache", host: "127.0.0.1", port: topology.api.basePort },
    // The warmers only read (catalog(), product()…); nothing here publishes to the static bucket.
    { staticDir: stack.staticDir ?? os.tmpdir(), staticBaseUrl: "/static/" },
  );
  const config = parseServiceEnv(env);
  return createPlatform(config, pino({ level: "warn" }, pino.destination(2)));
}

const catalogService = (p: Platform) => new CatalogService(p, new FsStaticBucket(p.config.STATIC_DIR));

/** Run `fn` over `items`, at most 16 at a time (a warm-up must not become a load spike). */
async function inBatches<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(fn));
}
