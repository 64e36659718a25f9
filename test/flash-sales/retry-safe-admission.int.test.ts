import { randomUUID } from "node:crypto";
import { saleKeys } from "../../services/src/modules/flash-sales/keys";
import { purchaseRequestId } from "../../services/src/modules/flash-sales/request-id";
import { SaleStore } from "../../services/src/modules/flash-sales/sale-store";
import { call } from "../support/api";
import { eventually } from "../stack/clients";
import {
  awaitOutcome,
  awaitOutcomes,
  buildBuyers,
  buildSale,
  mysqlView,
  orderRequestIds,
  purchase,
  reconciliation,
  stackRedis,
} from "./support";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("retry-safe admission", () => {
  const redis = stackRedis();
  const store = new SaleStore(redis);
  afterAll(() => redis.disconnect());

  it("answers the requestId derived from (sale, user, key), the same on every retry", async () => {
    const [alice] = await buildBuyers(1);
    const saleId = await buildSale();
    const key = randomUUID();
    const first = await purchase(saleId, alice, key);
    const again = await purchase(saleId, alice, key, 1);
    expect(first).toMatchObject({ status: 202, body: { requestId: purchaseRequestId(saleId, alice.id, key) } });
    expect(again.body).toEqual(first.body);
  });

  it("changes nothing when the script reaches Redis after its deadline (a held or re-sent script)", async () => {
    const [alice] = await buildBuyers(1);
    const saleId = await buildSale({ stock: 3 });
    await call("GET", `/flash-sales/${saleId}`, { token: alice.token }); // loaded into Redis at creation
    const key = randomUUID();
    const rid = purchaseRequestId(saleId, alice.id, key);
    // As ioredis re-sends it after a failover: seconds after the API gave up and answered 503.
    expect(await store.admit(saleId, Date.now() - 5000, alice.id, key, rid)).toEqual({ outcome: "stale" });
    const k = saleKeys(saleId);
    expect(await redis.hexists(k.reservations, rid)).toBe(0);
    expect(await redis.get(k.stock)).toBe("3");
    expect(await redis.hget(k.meta, "staleDropped")).toBe("1");
    // The client's retry is a fresh admission of the same request.
    expect(await purchase(saleId, alice, key)).toMatchObject({ status: 202, body: { requestId: rid } });
  });

  it("maps a script that did run late (within its deadline) to the requestId the retry gets: one order", async () => {
    const [alice] = await buildBuyers(1);
    const saleId = await buildSale({ stock: 3 });
    const key = randomUUID();
    const rid = purchaseRequestId(saleId, alice.id, key);
    // The API answered 503, yet its script ran (a reply lost in a failover): a reservation, unpublished.
    const ran = await store.admit(saleId, Date.now(), alice.id, key, rid);
    expect(ran).toMatchObject({ outcome: "admitted", requestId: rid });
    const retry = await purchase(saleId, alice, key);
    expect(retry).toMatchObject({ status: 202, body: { requestId: rid } });
    expect(await awaitOutcomes(saleId, [{ buyer: alice, requestId: rid }])).toEqual([
      { status: "confirmed", orderId: expect.any(Number) },
    ]);
    expect(await orderRequestIds(saleId)).toEqual(new Map([[rid, 1]]));
    expect(await mysqlView(saleId)).toMatchObject({ orders: 1, remaining: 2 });
  });

  it("answers a retry with its requestId, not limit_reached, when Redis lost the request but MySQL has its order", async () => {
    const [alice] = await buildBuyers(1);
    const saleId = await buildSale({ stock: 5, perUserLimit: 1 });
    const key = randomUUID();
    const first = await purchase(saleId, alice, key);
    const rid = first.body.requestId!;
    await awaitOutcomes(saleId, [{ buyer: alice, requestId: rid }]);
    // A failover erased what Redis knew of the request — but not the user's count (another of
    // her requests, replicated, could hold it): her retry must still learn her order.
    const k = saleKeys(saleId);
    await Promise.all([redis.hdel(k.reservations, rid), redis.hdel(k.confirmed, rid), redis.hdel(k.idem, key)]);
    const retry = await purchase(saleId, alice, key);
    expect(retry).toMatchObject({ status: 202, body: { requestId: rid } });
    expect(await purchase(saleId, alice)).toMatchObject({ status: 409, body: { error: "limit_reached" } });
    expect(await orderRequestIds(saleId)).toEqual(new Map([[rid, 1]]));
  });

  it("re-admits a request Redis lost entirely under its requestId, and MySQL keeps it one order", async () => {
    const [alice] = await buildBuyers(1);
    const saleId = await buildSale({ stock: 5, perUserLimit: 1 });
    const key = randomUUID();
    const rid = (await purchase(saleId, alice, key)).body.requestId!;
    await awaitOutcomes(saleId, [{ buyer: alice, requestId: rid }]);
    const k = saleKeys(saleId);
    // Everything of hers gone (the reconciler has not restored it yet): the retry is admitted again.
    await Promise.all([
      redis.hdel(k.reservations, rid),
      redis.hdel(k.confirmed, rid),
      redis.hdel(k.idem, key),
      redis.hdel(k.users, String(alice.id)),
      redis.incr(k.stock),
    ]);
    expect(await purchase(saleId, alice, key)).toMatchObject({ status: 202, body: { requestId: rid } });
    expect(await awaitOutcomes(saleId, [{ buyer: alice, requestId: rid }])).toEqual([
      { status: "confirmed", orderId: expect.any(Number) },
    ]);
    expect(await orderRequestIds(saleId)).toEqual(new Map([[rid, 1]]));
    const report = await reconciliation(saleId);
    expect(report).toMatchObject({ orders: 1, reservations: 1, drift: 0, pending: 0, redisRemaining: 4 });
  });

  it("lets a settled sale's keys expire, then answers retries, polls and new purchases from MySQL", async () => {
    const [alice, bob] = await buildBuyers(2);
    const saleId = await buildSale({ stock: 5, endsAt: new Date(Date.now() + 3000).toISOString() });
    const key = randomUUID();
    const rid = (await purchase(saleId, alice, key)).body.requestId!;
    const outcome = await awaitOutcome(saleId, { buyer: alice, requestId: rid });
    const k = saleKeys(saleId);
    // The reconcile job settles the ended sale (5 s after its end) and sets every key to expire.
    const ttl = await eventually(async () => ((await redis.ttl(k.meta)) > 0 ? redis.ttl(k.meta) : undefined), 30_000);
    expect(ttl).toBeGreaterThan(23 * 3600);
    for (const key of [k.stock, k.users, k.reservations, k.idem, k.confirmed])
      expect(await redis.ttl(key)).toBeGreaterThan(0);

    await redis.del(k.meta, k.stock, k.users, k.reservations, k.idem, k.confirmed, k.failed); // a day later
    expect(await purchase(saleId, alice, key)).toMatchObject({ status: 202, body: { requestId: rid } });
    expect(await purchase(saleId, bob)).toMatchObject({ status: 403, body: { error: "ended" } });
    const poll = await call("GET", `/flash-sales/${saleId}/purchases/${rid}`, { token: alice.token });
    expect(poll).toMatchObject({ status: 200, body: { status: "confirmed", orderId: outcome.orderId } });
    const sale = await call("GET", `/flash-sales/${saleId}`, { token: bob.token });
    expect(sale).toMatchObject({ status: 200, body: { status: "ended", remaining: 4 } });
    expect(await reconciliation(saleId)).toMatchObject({ orders: 1, drift: 0, mysqlConsistent: true });
    await sleep(2500); // a reconcile run or two: nothing brings the keys back
    expect(await redis.exists(k.meta, k.stock, k.reservations)).toBe(0);
  });
});
