import { randomUUID } from "node:crypto";
import { buildUser, call, replicaBase } from "../../../../test/support/api";
import { buildProduct } from "../../../../test/support/db";

interface Order {
  id: number;
  requestId: string;
  productId: number;
  quantity: number;
  amountCents: number;
  status: string;
}
interface Page {
  items: Order[];
  nextCursor: number | null;
}

describe("POST /api/v1/orders", () => {
  it("creates an order at the product's price and answers 201", async () => {
    const user = await buildUser();
    const product = await buildProduct({ priceCents: 1250 });
    const res = await call<Order>("POST", "/orders", {
      token: user.token,
      body: { productId: product.id, quantity: 3 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ productId: product.id, quantity: 3, amountCents: 3750, status: "confirmed" });
  });

  it("answers a retried Idempotency-Key with the same order, never a second one", async () => {
    const user = await buildUser();
    const product = await buildProduct();
    const key = randomUUID();
    const attempts = await Promise.all(
      Array.from({ length: 10 }, () =>
        call<Order>("POST", "/orders", {
          token: user.token,
          body: { productId: product.id },
          headers: { "idempotency-key": key },
        }),
      ),
    );
    expect(attempts.filter((a) => a.status === 201)).toHaveLength(1);
    expect(attempts.filter((a) => a.status === 200)).toHaveLength(9);
    expect(new Set(attempts.map((a) => a.body.id)).size).toBe(1);
    const list = await call<Page>("GET", "/orders", { token: user.token });
    expect(list.body.items.filter((o) => o.requestId === key)).toHaveLength(1);
  });

  it("refuses another user's Idempotency-Key with 409 idempotency_key_reused", async () => {
    const [alice, mallory] = [await buildUser(), await buildUser()];
    const product = await buildProduct();
    const key = randomUUID();
    await call("POST", "/orders", {
      token: alice.token,
      body: { productId: product.id },
      headers: { "idempotency-key": key },
    });
    const res = await call("POST", "/orders", {
      token: mallory.token,
      body: { productId: product.id },
      headers: { "idempotency-key": key },
    });
    expect(res).toMatchObject({ status: 409, body: { error: "idempotency_key_reused" } });
  });

  it.each([
    ["another product", { quantity: 1 }, true],
    ["another quantity", { quantity: 2 }, false],
  ])(
    "refuses the same Idempotency-Key with %s with 409 idempotency_key_reused and keeps the first order",
    async (_, change, otherProduct) => {
      const user = await buildUser();
      const [product, other] = [await buildProduct(), await buildProduct()];
      const key = randomUUID();
      const headers = { "idempotency-key": key };
      const first = await call<Order>("POST", "/orders", {
        token: user.token,
        body: { productId: product.id },
        headers,
      });
      expect(first.status).toBe(201);
      const reused = await call("POST", "/orders", {
        token: user.token,
        body: { productId: otherProduct ? other.id : product.id, ...change },
        headers,
      });
      expect(reused).toMatchObject({ status: 409, body: { error: "idempotency_key_reused" } });
      const same = await call<Order>("POST", "/orders", {
        token: user.token,
        body: { productId: product.id },
        headers,
      });
      expect(same).toMatchObject({ status: 200, body: { id: first.body.id, quantity: 1 } });
    },
  );

  it.each([
    ["an unknown product", { productId: 999_999_999 }, 404, "not_found"],
    ["a zero quantity", { productId: 1, quantity: 0 }, 400, "validation_failed"],
    ["a string product id", { productId: "1" }, 400, "validation_failed"],
    ["an injected price", { productId: 1, amountCents: 1 }, 400, "validation_failed"],
  ])("rejects %s with %i %s", async (_, body, status, error) => {
    const user = await buildUser();
    expect(await call("POST", "/orders", { token: user.token, body })).toMatchObject({ status, body: { error } });
  });

  it("rejects an Idempotency-Key that is not a UUID with 400", async () => {
    const user = await buildUser();
    const res = await call("POST", "/orders", {
      token: user.token,
      body: { productId: 1 },
      headers: { "idempotency-key": "nope" },
    });
    expect(res).toMatchObject({ status: 400, body: { error: "validation_failed" } });
  });

  it("requires a token", async () => {
    expect(await call("POST", "/orders", { body: { productId: 1 } })).toMatchObject({
      status: 401,
      body: { error: "unauthorized" },
    });
  });
});

describe("GET /api/v1/orders", () => {
  it("lists the caller's orders newest first across pages, and only theirs", async () => {
    const [alice, bob] = [await buildUser(), await buildUser()];
    const product = await buildProduct();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await call<Order>("POST", "/orders", { token: alice.token, body: { productId: product.id } })).body.id);
    await call("POST", "/orders", { token: bob.token, body: { productId: product.id } });

    const seen: number[] = [];
    let cursor: number | null | undefined;
    do {
      const page = await call<Page>("GET", `/orders?limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
        token: alice.token,
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((o) => o.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it("shows a new order at once on every API replica (cached list invalidated everywhere)", async () => {
    const user = await buildUser();
    const product = await buildProduct();
    // Warm both replicas' caches with the empty list.
    for (const base of [replicaBase(0), replicaBase(1)]) {
      expect((await call<Page>("GET", "/orders", { token: user.token, base })).body.items).toEqual([]);
    }
    const order = await call<Order>("POST", "/orders", {
      token: user.token,
      body: { productId: product.id },
      base: replicaBase(0),
    });
    for (const replica of [0, 1]) {
      const list = await call<Page>("GET", "/orders", { token: user.token, base: replicaBase(replica) });
      expect({ replica, ids: list.body.items.map((o) => o.id) }).toEqual({ replica, ids: [order.body.id] });
    }
  });

  it.each(["limit=0", "limit=101", "limit=x", "cursor=-1", "sort=asc"])(
    "rejects ?%s with 400 validation_failed",
    async (query) => {
      const user = await buildUser();
      expect(await call("GET", `/orders?${query}`, { token: user.token })).toMatchObject({
        status: 400,
        body: { error: "validation_failed" },
      });
    },
  );
});
