import { readState } from "../../infra/targets/local/state";
import { buildUser, call, replicaBase } from "../support/api";
import { buildProduct } from "../support/db";
import { allReplicasCounter, replicaCounter } from "../support/metrics";
import { eventually, getJson } from "../stack/clients";
import { testAddresses, testLayout } from "../stack/test-stack";
import { at } from "../support/checked";

const redisPids = () =>
  readState(testLayout().stateFile)!
    .processes.filter((p) => /^redis-\d+$/.test(p.name))
    .map((p) => p.pid);

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const signalAll = (signal: NodeJS.Signals) => redisPids().forEach((pid) => process.kill(pid, signal));
// What api-1 reports about its dependencies on its internal port.
const dependencies = async () =>
  (
    await getJson<{ checks: Record<string, { status: string }> }>(
      `http://127.0.0.1:${at(testAddresses().api, 0, "API replica api-1").port}/health/dependencies`,
    )
  ).body.checks;

describe("with every Redis node hung (SIGSTOP)", () => {
  afterEach(() => signalAll("SIGCONT"));

  it("serves reads and writes from MySQL with no 5xx, then uses the cache again once Redis is back", async () => {
    const user = await buildUser();
    const product = await buildProduct();
    const first = await call<{ id: number }>("POST", "/orders", { token: user.token, body: { productId: product.id } });

    const marksLostBefore = sum(await allReplicasCounter("floodgate_db_write_marks_lost_total"));
    signalAll("SIGSTOP");
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const list = await call<{ items: Array<{ id: number }> }>("GET", "/orders", { token: user.token });
      statuses.push(list.status);
      expect(list.body.items.map((o) => o.id)).toContain(first.body.id);
    }
    const during = await call<{ id: number }>("POST", "/orders", {
      token: user.token,
      body: { productId: product.id },
    });
    statuses.push(during.status);
    const afterWrite = await call<{ items: Array<{ id: number }> }>("GET", "/orders", { token: user.token });
    expect(afterWrite.body.items.map((o) => o.id)).toEqual([during.body.id, first.body.id]);
    expect(statuses.every((s) => s < 500)).toBe(true);
    // The order committed while its read-your-writes mark could not reach Redis: counted, not failed.
    expect(sum(await allReplicasCounter("floodgate_db_write_marks_lost_total"))).toBeGreaterThan(marksLostBefore);
    // Readiness stays up (every replica shares Redis); the internal port says what is down.
    expect(await call("GET", "/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    await eventually(async () => ((await dependencies()).redis?.status === "down" ? true : undefined), 20_000, 250);

    signalAll("SIGCONT");
    await eventually(
      async () => {
        const checks = await dependencies();
        if (checks.redis?.status !== "up") throw new Error(`redis ${JSON.stringify(checks.redis)}`);
        return true;
      },
      20_000,
      250,
    );
    // Right after the outage, breakers still cool down in some processes and not in others: a
    // write on one replica must still clear the other's L1 at once.
    for (let round = 0; round < 5; round++) {
      const fresh = await buildUser();
      for (const replica of [0, 1]) await call("GET", "/orders", { token: fresh.token, base: replicaBase(replica) });
      const order = await call<{ id: number }>("POST", "/orders", {
        token: fresh.token,
        body: { productId: product.id },
        base: replicaBase(0),
      });
      for (const replica of [0, 1]) {
        const list = await call<{ items: Array<{ id: number }> }>("GET", "/orders", {
          token: fresh.token,
          base: replicaBase(replica),
        });
        expect({ round, replica, ids: list.body.items.map((o) => o.id) }).toEqual({
          round,
          replica,
          ids: [order.body.id],
        });
      }
    }
    // A fresh user's list: replica 0 loads it into Redis; replica 1 then finds it there (an L2 hit).
    await eventually(
      async () => {
        // A new user per attempt: a read made while a breaker still cools down fills only L1.
        const fresh = await buildUser();
        await call("GET", "/orders", { token: fresh.token, base: replicaBase(0) });
        const hitsBefore = await replicaCounter(1, "floodgate_cache_lookups_total", {
          cache: "orders",
          level: "l2",
          result: "hit",
        });
        await call("GET", "/orders", { token: fresh.token, base: replicaBase(1) });
        const hitsAfter = await replicaCounter(1, "floodgate_cache_lookups_total", {
          cache: "orders",
          level: "l2",
          result: "hit",
        });
        return hitsAfter > hitsBefore ? true : undefined;
      },
      20_000,
      500,
    );
    // And the write made during the outage is not hidden by a stale cached list.
    const after = await call<{ items: Array<{ id: number }> }>("GET", "/orders", {
      token: user.token,
      base: replicaBase(1),
    });
    expect(after.body.items.map((o) => o.id)).toEqual([during.body.id, first.body.id]);
  });
});
