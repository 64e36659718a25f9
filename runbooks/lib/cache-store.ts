/**
 * The API's shared (L2) cache as the runbooks see it in the Redis Cluster: its namespaces, an admin
 * client, and flushing a namespace the way the services invalidate an entry. Used by the cache
 * runbook and by an in-place restore (which must drop every entry the old data filled).
 */
import { Cluster, type Redis } from "ioredis";
import type { RunbookStack } from "./stack";

/**
 * Every namespace the services cache under (`p.caches.cache(name)` in services/src/modules). Keys are
 * `c:{<namespace>:<id>}` and `c:{<namespace>:<id>}:ver`.
 */
export const CACHE_NAMESPACES = [
  "catalog",
  "catalog-product",
  "catalog-version",
  "flash-sale",
  "profile",
  "orders",
  "sign-ins",
] as const;
/** One cache namespace. */
export type CacheNamespace = (typeof CACHE_NAMESPACES)[number];

/** SCAN one node for `pattern` (never KEYS). */
export async function* scan(client: Redis, pattern: string): AsyncGenerator<string> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    yield* keys;
  } while (cursor !== "0");
}

// What the services' invalidation does (INCR + EXPIRE the version, then drop the value), with UNLINK:
// a loader that read the old version cannot store its value afterwards. Both keys share a hash tag.
const DROP_ENTRY = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 86400)
return redis.call('UNLINK', KEYS[1])`;
const BATCH = 500;

/** Delete every entry of `namespaces` on every master (their version counters bumped); how many went. */
export async function flushNamespaces(cluster: Cluster, namespaces: string[]): Promise<{ unlinked: number }> {
  let unlinked = 0;
  for (const m of await masters(cluster)) {
    for (const ns of namespaces) {
      let batch: string[] = [];
      const send = async () => {
        const pipeline = m.pipeline();
        for (const key of batch) pipeline.eval(DROP_ENTRY, 2, key, `${key}:ver`);
        const replies = (await pipeline.exec()) ?? [];
        for (const [i, [err, n]] of replies.entries()) {
          const key = batch[i];
          if (key === undefined) throw new Error(`${replies.length} pipeline replies for ${batch.length} keys`);
          // A slot that moved since the SCAN: the cluster client follows the redirection.
          const result = err ? await cluster.eval(DROP_ENTRY, 2, key, `${key}:ver`) : n;
          unlinked += Number(result);
        }
        batch = [];
      };
      for await (const key of scan(m, `c:{${globEscape(ns)}:*`)) {
        if (key.endsWith(":ver")) continue;
        batch.push(key);
        if (batch.length >= BATCH) await send();
      }
      if (batch.length) await send();
    }
  }
  return { unlinked };
}

/** A cluster client as the admin ACL user (SCAN and UNLINK on every node). */
export function adminCluster(stack: Pick<RunbookStack, "topology" | "addresses">): Cluster {
  const cluster = new Cluster(
    stack.addresses.redis.map((a) => ({ host: a.host, port: a.port })),
    {
      redisOptions: {
        username: "admin",
        password: stack.topology.redis.users.admin.password,
        connectTimeout: 2000,
        maxRetriesPerRequest: 2,
      },
      slotsRefreshTimeout: 2000,
    },
  );
  cluster.on("error", () => undefined); // reported where a command fails
  return cluster;
}

/** The cluster's masters now (after a failover, not the ones the topology started with). */
export async function masters(cluster: Cluster): Promise<Redis[]> {
  if (cluster.status !== "ready")
    await new Promise<void>((resolve, reject) => {
      cluster.once("ready", resolve);
      cluster.once("end", () => reject(new Error("redis cluster: no connection")));
      setTimeout(() => reject(new Error("redis cluster: not ready within 10 s")), 10_000).unref();
    });
  return cluster.nodes("master");
}

/** A namespace as a literal in a SCAN pattern. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, "\\$&");
