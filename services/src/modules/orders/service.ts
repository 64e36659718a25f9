import { randomUUID } from "node:crypto";
import { ConflictError, NotFoundError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { insertOrder, listOrders, orderByRequest, orderInTx, productPrice } from "./repository";
import type { CreateOrderReq, ListOrdersQuery, Order } from "./schema";

// The first page is what nearly every request asks for: cache the newest orders per user and
// slice; deeper pages go to the database (a replica, read-your-writes).
const CACHED_NEWEST = 100;

/** The per-user orders cache: other writers of orders (the flash-sale workers) invalidate it too. */
export const ordersCache = (p: Platform) => p.caches.cache<Order[]>("orders");

/**
 * Buy a product: one transaction, idempotent on the request id, then invalidate the user's list.
 * The answer is read inside the transaction, so once COMMIT succeeds nothing can turn the committed
 * order into an error. A retried Idempotency-Key must carry the same body as the request it first
 * served; a different one is refused (409), never answered with the other order.
 */
export async function createOrder(p: Platform, userId: number, req: CreateOrderReq, idempotencyKey?: string) {
  const requestId = idempotencyKey ?? randomUUID();
  p.tracking.track("purchase_attempt", `product:${req.productId}`, userId);
  const replay = async () => {
    const existing = await orderByRequest(p.db, requestId);
    if (!existing || existing.userId !== userId)
      throw ConflictError("idempotency_key_reused", "that Idempotency-Key was used for another request");
    if (existing.productId !== req.productId || existing.quantity !== req.quantity)
      throw ConflictError("idempotency_key_reused", "that Idempotency-Key was used with a different body");
    const { userId: _owner, ...order } = existing;
    return { order, created: false };
  };
  let order: Order;
  try {
    order = await p.db.transaction(`user:${userId}`, async (tx) => {
      const price = await productPrice(tx, req.productId);
      if (price === null) throw NotFoundError("no such product");
      const id = await insertOrder(tx, {
        userId,
        requestId,
        productId: req.productId,
        quantity: req.quantity,
        amountCents: price * req.quantity,
      });
      return orderInTx(tx, id);
    });
  } catch (err) {
    if ((err as { code?: string }).code === "ER_DUP_ENTRY") return replay();
    throw err;
  }
  // Committed: a failed invalidation is retried by the cache itself and must not fail the answer.
  await ordersCache(p)
    .invalidate(userId)
    .catch((err: Error) => p.log.warn({ err: err.message, userId }, "orders cache invalidation failed"));
  return { order, created: true };
}

/** A page of the user's orders, newest first. */
export async function ordersPage(p: Platform, userId: number, q: ListOrdersQuery) {
  const items =
    q.cursor === undefined && q.limit <= CACHED_NEWEST
      ? ((await ordersCache(p).get(userId, () => listOrders(p.db, userId, CACHED_NEWEST))) ?? []).slice(0, q.limit)
      : await listOrders(p.db, userId, q.limit, q.cursor);
  const nextCursor = items.length === q.limit ? (items.at(-1)?.id ?? null) : null;
  return { items, nextCursor };
}
