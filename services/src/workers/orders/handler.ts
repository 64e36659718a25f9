import { ordersCache } from "../../modules/orders/service";
import { insertSaleOrder, saleOrderByRequest, takeUnit } from "../../modules/flash-sales/repository";
import type { RequestOutcome, SaleStore } from "../../modules/flash-sales/sale-store";
import type { OrderMessage } from "../../modules/flash-sales/schema";
import type { Platform } from "../../platform/platform";

/** What handling one message did: a new order, an order that already existed, or a terminal refusal. */
export type OrderOutcome = "processed" | "duplicate" | "failed";

const isDuplicate = (err: unknown) => (err as { code?: string }).code === "ER_DUP_ENTRY";

/**
 * Persist one admitted purchase, idempotently: one transaction takes a unit with a conditional
 * update and inserts the order, guarded by the unique keys (request_id; sale, user, seq). A
 * duplicate key rolls the unit back. Transient failures (MySQL down, deadlock) throw: the caller
 * retries. The Redis outcome and the cache invalidation come after the commit, best effort (the
 * status endpoint falls back to MySQL; the reconciler re-publishes what is still pending).
 */
export async function handleOrder(p: Platform, store: SaleStore, m: OrderMessage): Promise<OrderOutcome> {
  let orderId: number | null;
  try {
    orderId = await p.db.transaction(`user:${m.userId}`, async (tx) =>
      (await takeUnit(tx, m.saleId)) ? insertSaleOrder(tx, m) : null,
    );
  } catch (err) {
    if (!isDuplicate(err)) throw err;
    orderId = null;
  }
  if (orderId !== null) {
    await settle(p, store, m, { kind: "confirmed", orderId });
    return "processed";
  }
  // No new order: either this request already has one (a redelivery), or MySQL refuses it for good.
  const existing = await saleOrderByRequest(p.db, m.saleId, m.requestId);
  if (existing) {
    await settle(p, store, m, { kind: "confirmed", orderId: existing.id });
    return "duplicate";
  }
  // Exhausted in MySQL, or (after Redis lost a reservation) the user's seq is already taken.
  const seqTaken = await p.db.readPrimary<{ n: number }>(
    "SELECT COUNT(*) AS n FROM orders WHERE flash_sale_id = ? AND user_id = ? AND seq = ?",
    [m.saleId, m.userId, m.seq],
  );
  await settle(p, store, m, { kind: "failed", reason: Number(seqTaken[0]?.n) > 0 ? "limit_reached" : "sold_out" });
  return "failed";
}

async function settle(p: Platform, store: SaleStore, m: OrderMessage, outcome: RequestOutcome) {
  await store
    .recordOutcome(m.saleId, m.requestId, outcome)
    .catch((err: Error) => p.log.warn({ err: err.message, requestId: m.requestId }, "outcome not recorded in redis"));
  if (outcome.kind === "confirmed") await ordersCache(p).invalidate(m.userId);
}
