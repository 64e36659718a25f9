import { randomUUID } from "node:crypto";
import { ConflictError, NotFoundError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { insertOrder, listOrders, orderByRequest, productPrice } from "./repository";
import type { CreateOrderReq, ListOrdersQuery, Order } from "./schema";

// The first page is what nearly every request asks for: cache the newest orders per user and
// slice; deeper pages go to the database (a replica, read-your-writes).
const CACHED_NEWEST = 100;

/** The per-user orders cache: other writers of orders (the flash-sale workers) invalidate it too. */
export const ordersCache = (p: Platform) => p.caches.cache<Order[]>("orders");

/** Buy a product: one transaction, idempotent on the request id, then invalidate the user's list. */
export async function createOrder(p: Platform, userId: number, req: CreateOrderReq, idempotencyKey?: string) {
  const requestId = idempotencyKey ?? randomUUID();
  p.tracking.track("purchase_attempt", `product:${req.productId}`, userId);
  const replay = async () => {
    const existing = await orderByRequest(p.db, requestId);
    if (!existing || existing.userId !== userId)
      throw ConflictError("idempotency_key_reused", "that Idempotency-Key was used for another request");
    const { userId: _owner, ...order } = existing;
    return { order, created: false };
  };
  try {
    await p.db.transaction(`user:${userId}`, async (tx) => {
      const price = await productPrice(tx, req.productId);
      if (price === null) throw NotFoundError("no such product");
      return insertOrder(tx, {
        userId,
        requestId,
        productId: req.productId,
        quantity: req.quantity,
        amountCents: price * req.quantity,
      });
    });
    await ordersCache(p).invalidate(userId);
    const { userId: _owner, ...order } = (await orderByRequest(p.db, requestId))!;
    return { order, created: true };
  } catch (err) {
    if ((err as { code?: string }).code === "ER_DUP_ENTRY") return replay();
    throw err;
  }
}

/** A page of the user's orders, newest first. */
export async function ordersPage(p: Platform, userId: number, q: ListOrdersQuery) {
  const items =
    q.cursor === undefined && q.limit <= CACHED_NEWEST
      ? ((await ordersCache(p).get(userId, () => listOrders(p.db, userId, CACHED_NEWEST))) ?? []).slice(0, q.limit)
      : await listOrders(p.db, userId, q.limit, q.cursor);
  const nextCursor = items.length === q.limit ? items[items.length - 1].id : null;
  return { items, nextCursor };
}
