import { randomUUID } from "node:crypto";
import { adminToken, call } from "../support/api";
import { testAddresses } from "../stack/test-stack";
import { awaitOutcome, awaitOutcomes, buildBuyers, buildSale, mysqlView, purchase, reconciliation } from "./support";
import { present } from "../support/checked";

const hour = 3_600_000;

describe("POST /api/v1/admin/flash-sales", () => {
  it.each([
    ["an end before the start", { endsAt: new Date(Date.now() - hour).toISOString() }],
    ["zero stock", { stock: 0 }],
    ["too much stock", { stock: 1_000_001 }],
    ["a non-ISO start", { startsAt: "tomorrow" }],
    ["an unknown field", { remaining: 5 }],
  ])("rejects %s with 400 validation_failed", async (_, overrides) => {
    await expect(buildSale(overrides)).rejects.toThrow(/400 .*validation_failed/);
  });

  it("refuses a non-admin with 403 admin_only", async () => {
    const [user] = await buildBuyers(1);
    const res = await call("POST", "/admin/flash-sales", { token: user.token, body: {} });
    expect(res).toMatchObject({ status: 403, body: { error: "admin_only" } });
  });
});

describe("GET /api/v1/flash-sales/:id", () => {
  it("shows the sale with its remaining stock and status", async () => {
    const [user] = await buildBuyers(1);
    const id = await buildSale({ stock: 7, startsAt: new Date(Date.now() + hour).toISOString() });
    const res = await call("GET", `/flash-sales/${id}`, { token: user.token });
    expect(res).toMatchObject({ status: 200, body: { id, stock: 7, remaining: 7, status: "scheduled" } });
  });

  it.each([
    ["/flash-sales/999999999", 404, "not_found"],
    ["/flash-sales/abc", 400, "validation_failed"],
  ])("answers GET %s with %i %s", async (path, status, error) => {
    const [user] = await buildBuyers(1);
    expect(await call("GET", path, { token: user.token })).toMatchObject({ status, body: { error } });
  });
});

describe("POST /api/v1/flash-sales/:id/purchases", () => {
  it("refuses before the window with 403 not_started and after it with 403 ended", async () => {
    const [user] = await buildBuyers(1);
    const early = await buildSale({ startsAt: new Date(Date.now() + hour).toISOString() });
    const late = await buildSale({
      startsAt: new Date(Date.now() - 2 * hour).toISOString(),
      endsAt: new Date(Date.now() - hour).toISOString(),
    });
    expect(await purchase(early, user)).toMatchObject({ status: 403, body: { error: "not_started" } });
    expect(await purchase(late, user)).toMatchObject({ status: 403, body: { error: "ended" } });
  });

  it("requires a UUID Idempotency-Key, a known sale and a token", async () => {
    const [user] = await buildBuyers(1);
    const id = await buildSale();
    const path = `/flash-sales/${id}/purchases`;
    expect(await call("POST", path, { token: user.token })).toMatchObject({ status: 400 });
    expect(await purchase(id, user, "not-a-uuid")).toMatchObject({ status: 400, body: { error: "validation_failed" } });
    expect(await purchase(999_999_999, user)).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(await call("POST", path, { headers: { "idempotency-key": randomUUID() } })).toMatchObject({ status: 401 });
  });

  it("answers 50 parallel retries of one Idempotency-Key with one requestId and makes one order", async () => {
    const [user] = await buildBuyers(1);
    const id = await buildSale({ stock: 5, perUserLimit: 3 });
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => purchase(id, user, key, i)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    const ids = new Set(answers.map((a) => a.body.requestId));
    expect(ids.size).toBe(1);
    const requestId = present([...ids][0], "the requestId of the retries");
    expect(await awaitOutcomes(id, [{ buyer: user, requestId }])).toEqual([
      { status: "confirmed", orderId: expect.any(Number) },
    ]);
    expect(await mysqlView(id)).toMatchObject({ orders: 1, remaining: 4 });
    expect(await reconciliation(id)).toMatchObject({ reservations: 1, orders: 1, drift: 0, redisRemaining: 4 });
  });

  it("refuses another user's Idempotency-Key with 409 idempotency_key_reused and hides the request from them", async () => {
    const [alice, mallory] = await buildBuyers(2);
    const id = await buildSale();
    const key = randomUUID();
    const first = await purchase(id, alice, key);
    expect(first.status).toBe(202);
    expect(await purchase(id, mallory, key)).toMatchObject({ status: 409, body: { error: "idempotency_key_reused" } });
    const peek = await call("GET", `/flash-sales/${id}/purchases/${first.body.requestId}`, { token: mallory.token });
    expect(peek).toMatchObject({ status: 404, body: { error: "not_found" } });
  });

  it("answers 409 limit_reached past the per-user limit and 409 sold_out past the stock", async () => {
    const [alice, bob] = await buildBuyers(2);
    const id = await buildSale({ stock: 1, perUserLimit: 1 });
    expect((await purchase(id, alice)).status).toBe(202);
    expect(await purchase(id, alice)).toMatchObject({ status: 409, body: { error: "limit_reached" } });
    expect(await purchase(id, bob)).toMatchObject({ status: 409, body: { error: "sold_out" } });
  });

  it("answers a retried Idempotency-Key with its requestId after the sale sold out, on every replica", async () => {
    // Alice's first answer is lost (a 503 in a failover, say); meanwhile the sale sells out and
    // every replica flags it in L1. Her retry must learn her request, not hear "sold out".
    const [alice, bob, mallory] = await buildBuyers(3);
    const id = await buildSale({ stock: 1 });
    const key = randomUUID();
    const first = await purchase(id, alice, key);
    expect(first.status).toBe(202);
    const replicas = testAddresses().api.length;
    for (let i = 0; i < replicas; i++)
      expect(await purchase(id, bob, randomUUID(), i)).toMatchObject({ status: 409, body: { error: "sold_out" } });
    for (let i = 0; i < replicas; i++) {
      expect(await purchase(id, alice, key, i)).toMatchObject({ status: 202, body: first.body });
      expect(await purchase(id, mallory, key, i)).toMatchObject({
        status: 409,
        body: { error: "idempotency_key_reused" },
      });
    }
  });

  it("shows a confirmed purchase in GET /orders at the sale's price", async () => {
    const [user] = await buildBuyers(1);
    const id = await buildSale({ priceCents: 4321 });
    const { body } = await purchase(id, user);
    const outcome = await awaitOutcome(id, { buyer: user, requestId: body.requestId! });
    const list = await call<{ items: Array<Record<string, unknown>> }>("GET", "/orders", { token: user.token });
    expect(list.body.items).toEqual([
      expect.objectContaining({ id: outcome.orderId, flashSaleId: id, amountCents: 4321, quantity: 1 }),
    ]);
  });
});

describe("GET /api/v1/admin/flash-sales/:id/reconciliation", () => {
  it("is for administrators only", async () => {
    const [user] = await buildBuyers(1);
    const id = await buildSale();
    const path = `/admin/flash-sales/${id}/reconciliation`;
    expect(await call("GET", path, { token: user.token })).toMatchObject({
      status: 403,
      body: { error: "admin_only" },
    });
    expect((await call("GET", path, { token: await adminToken() })).status).toBe(200);
  });
});

describe("POST /api/v1/naive/flash-sales/:id/purchases (the benchmark's naive baseline)", () => {
  it("is not served unless the topology asks for it: the test stack, like production, answers 404 and documents no such route", async () => {
    const [buyer] = await buildBuyers(1);
    const saleId = await buildSale({ stock: 5 });
    const res = await call("POST", `/naive/flash-sales/${saleId}/purchases`, {
      token: buyer.token,
      headers: { "idempotency-key": randomUUID() },
    });
    expect(res).toMatchObject({ status: 404, body: { error: "not_found" } });
    const openapi = await call<{ paths: Record<string, unknown> }>("GET", "/openapi.json");
    expect(Object.keys(openapi.body.paths).filter((p) => p.includes("naive"))).toEqual([]);
    expect(await mysqlView(saleId)).toEqual({ orders: 0, maxPerUser: 0, remaining: 5 });
  });
});
