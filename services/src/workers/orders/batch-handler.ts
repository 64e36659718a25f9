import {
  insertSaleOrders,
  lockSale,
  orderIdsByRequest,
  ordersClashing,
  takeUnits,
} from "../../modules/flash-sales/repository";
import type { SaleStore } from "../../modules/flash-sales/sale-store";
import type { OrderMessage } from "../../modules/flash-sales/schema";
import { ordersCache } from "../../modules/orders/service";
import { zip } from "../../platform/checked";
import type { Tx } from "../../platform/db";
import type { Platform } from "../../platform/platform";
import { batchResults, ordersOwners, planBatch, type BatchDecision } from "./batch-plan";
import type { OrderOutcome } from "./handler";
import type { BatchWrites } from "./user-writes";

/**
 * Persist the admitted purchases of one sale in ONE transaction (one commit, one hold of the sale's
 * row lock for the whole batch): lock the row, find the requests and seats already ordered, take
 * the units the rest need with one conditional update and insert their orders in one statement.
 * MySQL stays the final guard: the update refuses to go below zero and the unique keys refuse a
 * second order of a request or seat; either refusal throws, and the caller falls back to
 * `handleOrder` one message at a time. Returns the committed plan: pass it to `settleOrderBatch`.
 */
export function persistOrderBatch(p: Platform, saleId: number, messages: OrderMessage[]): Promise<BatchDecision[]> {
  return p.db.transaction(null, (tx) => persist(tx, saleId, messages));
}

/**
 * After the commit (the sale's lock already free for the next batch): the new orders' ids and every
 * owner's read-your-writes, then each owner's orders cache and each outcome in Redis (best effort),
 * as `handleOrder` does for one message. Returns how each message counts.
 */
export async function settleOrderBatch(
  p: Platform,
  store: SaleStore,
  writes: BatchWrites,
  messages: OrderMessage[],
  plan: BatchDecision[],
): Promise<OrderOutcome[]> {
  const owners = ordersOwners(plan, messages);
  const fresh = newOrders(messages, plan).map((m) => m.requestId);
  const [orderIds] = await Promise.all([orderIdsByRequest(p.db, fresh), writes.recordCommitted(owners)]);
  const results = batchResults(plan, messages, orderIds);
  await Promise.all([
    ...owners.map((userId) => ordersCache(p).invalidate(userId)),
    ...zip(messages, results, "the batch's messages and results").map(([m, { record }]) =>
      store
        .recordOutcome(m.saleId, m.requestId, record)
        .catch((err: Error) =>
          p.log.warn({ err: err.message, requestId: m.requestId }, "outcome not recorded in redis"),
        ),
    ),
  ]);
  return results.map((r) => r.outcome);
}

async function persist(tx: Tx, saleId: number, messages: OrderMessage[]): Promise<BatchDecision[]> {
  const sale = await lockSale(tx, saleId);
  const existing = await ordersClashing(
    tx,
    saleId,
    messages.map((m) => m.requestId),
    messages.map((m) => m.userId),
  );
  const plan = planBatch(saleId, sale?.remaining ?? 0, messages, existing);
  const fresh = newOrders(messages, plan);
  if (fresh.length === 0 || !sale) return plan;
  if (!(await takeUnits(tx, saleId, fresh.length))) throw new Error(`sale ${saleId} lost units under its row lock`);
  await insertSaleOrders(tx, saleId, sale.priceCents, fresh);
  return plan;
}

/** The messages `plan` decides to order now (its "new" decisions). */
function newOrders(messages: OrderMessage[], plan: BatchDecision[]): OrderMessage[] {
  return zip(messages, plan, "the batch's messages and decisions").flatMap(([m, d]) => (d.kind === "new" ? [m] : []));
}
