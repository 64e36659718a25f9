import { Cluster } from "ioredis";
import { buildUser, call, replicaBase, type TestUser } from "../support/api";
import { buildProduct } from "../support/db";
import { eventually, testAddresses, testTopology } from "../stack/clients";
import { runbook } from "./support";

// cache run as on-call runs it (a child process) against the live test stack: the API fills its
// Redis cache, the runbook counts, flushes and warms it, and the API's own answers show the data is
// still served right.

const cache = (...args: string[]) => runbook("cache", ...args);

let redis: Cluster;
beforeAll(() => {
  redis = new Cluster(testAddresses().redis, {
    redisOptions: { username: "admin", password: testTopology().redis.users.admin.password },
  });
});
afterAll(() => redis.disconnect());

/** The cached value of one entry in Redis (the services' L2), or null when there is none. */
async function l2<T>(namespace: string, id: string | number): Promise<T | null> {
  const raw = await redis.get(`c:{${namespace}:${id}}`);
  return raw === null ? null : (JSON.parse(raw) as { value: T }).value;
}

/** Every entry of a namespace on every master, counted by the test itself. */
async function countEntries(namespace: string): Promise<number> {
  let n = 0;
  for (const master of redis.nodes("master")) {
    let cursor = "0";
    do {
      const [next, keys] = await master.scan(cursor, "MATCH", `c:{${namespace}:*`, "COUNT", 1000);
      n += keys.filter((k) => !k.endsWith(":ver")).length;
      cursor = next;
    } while (cursor !== "0");
  }
  return n;
}

const me = (user: TestUser, base?: string) =>
  call<{ id: number; username: string; bio: string }>("GET", "/me", { token: user.token, base });

describe("cache: count and flush", () => {
  it("counts a namespace's entries, flushes them, and the API keeps serving the profile and its updates", async () => {
    const user = await buildUser();
    for (const base of [replicaBase(0), replicaBase(1)]) expect((await me(user, base)).status).toBe(200);
    expect(await l2("profile", user.id)).toMatchObject({ id: user.id, username: user.username });

    const counted = await cache("--namespace", "profile");
    expect(counted.code).toBe(0);
    const n = Number(/ok: namespace profile: (\d+) entries/.exec(counted.out)?.[1]);
    expect(n).toBe(await countEntries("profile"));
    expect(n).toBeGreaterThanOrEqual(1);
    expect(counted.out).not.toMatch(/namespace catalog/); // only the namespace asked for

    const dry = await cache("--namespace", "profile", "--flush");
    expect({ code: dry.code, out: dry.out }).toMatchObject({ code: 0 }); // the runbook's output when it failed
    expect(dry.out).toMatch(new RegExp(`would: flush profile: unlink its ${n} entries`));
    expect(await l2("profile", user.id)).not.toBeNull();

    const flushed = await cache("--namespace", "profile", "--flush", "--apply", "--yes");
    expect({ code: flushed.code, out: flushed.out }).toMatchObject({ code: 0 }); // the runbook's output when it failed
    expect(flushed.out).toMatch(/done\s+flush profile/);
    expect(flushed.out).toContain(`expire within CACHE_L1_TTL_MS = ${testTopology().api.cache.l1TtlMs} ms`);
    expect(await l2("profile", user.id)).toBeNull();
    expect(await countEntries("profile")).toBe(0);

    // Still served right, and an update still reaches the other replica (its L1 invalidated by pub/sub).
    expect((await me(user)).body).toMatchObject({ id: user.id, username: user.username });
    const patched = await call("PATCH", "/me", {
      token: user.token,
      body: { bio: "after the flush" },
      base: replicaBase(0),
    });
    expect(patched.status).toBe(200);
    await eventually(
      async () => ((await me(user, replicaBase(1))).body.bio === "after the flush" ? true : undefined),
      5000,
      50,
    );
    expect(await l2("profile", user.id)).toMatchObject({ bio: "after the flush" }); // refilled by the read

    const again = await cache("--namespace", "profile", "--flush", "--apply", "--yes");
    expect(again.code).toBe(0);
  });

  it("names an unknown namespace and exits 2", async () => {
    const bad = await cache("--namespace", "sessions", "--flush");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("--namespace sessions: unknown cache namespace");
  });
});

describe("cache: warm", () => {
  it("warms the catalog from the database and the profiles it flushed; the API answers with the same data", async () => {
    // Written behind the API's back, so nothing invalidated the cached catalog: flush + warm refreshes it.
    const product = await buildProduct({ name: "warmed by the runbook" });
    const warmed = await cache("--namespace", "catalog", "--flush", "--warm", "--apply", "--yes");
    expect({ code: warmed.code, out: warmed.out }).toMatchObject({ code: 0 }); // the runbook's output when it failed
    expect(warmed.out).toMatch(/ok: warmed catalog: [1-9]\d* products/);
    const entry = await l2<{ products: Array<{ id: number; name: string }> }>("catalog", "all");
    expect(entry?.products).toContainEqual(expect.objectContaining({ id: product.id, name: "warmed by the runbook" }));
    const served = await eventually(
      async () => {
        const r = await call<{ products: Array<{ id: number }> }>("GET", "/catalog");
        return r.body.products.some((p) => p.id === product.id) ? r : undefined;
      },
      40_000,
      500,
    ); // an API process may still hold an older copy in L1 (CACHE_L1_TTL_MS)
    expect(served.body.products.map((p) => p.id).sort()).toEqual(entry!.products.map((p) => p.id).sort());

    const user = await buildUser();
    // Read until the profile is in Redis: right after a Redis failover test the breaker may still
    // keep a load's copy out of L2, and the runbook warms only the profiles it flushed.
    await eventually(
      async () => {
        expect((await me(user)).status).toBe(200);
        return (await l2("profile", user.id)) ?? undefined;
      },
      20_000,
      500,
    );
    const profile = await cache("--namespace", "profile", "--flush", "--warm", "--apply", "--yes");
    expect({ code: profile.code, out: profile.out }).toMatchObject({ code: 0 }); // the runbook's output when it failed
    expect(profile.out).toMatch(/done\s+warm profile for the [1-9]\d* users it held/);
    // In Redis before any API read: the runbook loaded it through the service's own read path.
    const cached = await l2<{ id: number; username: string }>("profile", user.id);
    expect(cached).toMatchObject({ id: user.id, username: user.username });
    expect((await me(user)).body).toMatchObject({ id: cached!.id, username: cached!.username });
  });
});
