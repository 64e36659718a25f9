import { randomUUID } from "node:crypto";
import { Gauge } from "prom-client";
import type { Platform } from "../../platform/platform";
import { findSale, mysqlTally, saleOrders, type SaleRow } from "./repository";
import {
  dueForRepublish,
  lostOrders,
  mysqlOnlyReport,
  pendingReservations,
  reconciliationReport,
  type HeldReservation,
} from "./reconcile-plan";
import type { SaleStore } from "./sale-store";
import type { OrderMessage, Reconciliation } from "./schema";

/** The `orders` RabbitMQ queue: admitted purchases on their way to MySQL. */
export const ORDERS_QUEUE = "orders";

/**
 * Drift per sale, measured atomically in Redis before the repair: the Redis counter minus what the
 * reservations account for, i.e. remaining − (stock − (reservations − failed)), after restoring the
 * reservations of MySQL orders Redis had lost. Positive: Redis would admit more than it should
 * (MySQL's conditional update still refuses, so requests fail visibly); negative: stock would be
 * undersold. Zero when Redis and MySQL agree.
 */
export const saleDrift = new Gauge({
  name: "floodgate_flash_sale_drift",
  help: "Redis remaining minus stock - (reservations - failed), before the reconciler repaired it",
  labelNames: ["sale"] as const,
});

/** Reconciliation tunables. */
export interface ReconcileOptions {
  /** A reservation without an order older than this is re-published (and then at most this often). */
  staleMs: number;
  lockTtlMs: number;
}

/** Defaults: re-publish after 5 s; the lock outlives any run. */
export const RECONCILE_DEFAULTS: ReconcileOptions = { staleMs: 5000, lockTtlMs: 15_000 };

/**
 * Compare one sale's Redis reservations with its MySQL orders and repair: restore reservations of
 * orders Redis lost (a failover), reset the counter, re-publish stale reservations that have no
 * order (a lost or unconfirmed hand-off; consumers are idempotent). Null when another process holds
 * the sale's lock.
 */
export async function reconcileSale(
  p: Platform,
  store: SaleStore,
  saleId: number,
  opts: ReconcileOptions = RECONCILE_DEFAULTS,
): Promise<Reconciliation | null> {
  const release = await store.lock(saleId, randomUUID(), opts.lockTtlMs);
  if (!release) return null;
  try {
    const sale = await findSale(p.db, saleId);
    if (!sale) return null;
    return await reconcileLocked(p, store, sale, opts);
  } finally {
    await release().catch(() => undefined);
  }
}

async function reconcileLocked(p: Platform, store: SaleStore, sale: SaleRow, opts: ReconcileOptions) {
  // A settled sale's keys expire; rebuilding them for a sale that admits no more would only fill
  // Redis again (admission and status of an ended sale fall back to MySQL).
  if (sale.endsAt.getTime() <= Date.now() && !(await store.known(sale.id)))
    return mysqlOnlyReport(sale, await mysqlTally(p.db, sale.id), Date.now());
  const orders = await saleOrders(p.db, sale.id);
  const reservations = await store.reservations(sale.id);
  const repair = await store.repair(sale, lostOrders(orders, reservations));
  const { failed, republished } = await store.failedAndRepublished(sale.id);
  const now = Date.now();
  const pending = pendingReservations(reservations, new Set(orders.map((o) => o.requestId)), failed);
  const stale = dueForRepublish(pending, republished, now, opts.staleMs);
  await republish(p, store, sale.id, stale, now);
  const report = reconciliationReport({
    sale,
    orders: orders.length,
    repair,
    pending: pending.length,
    republished: stale.length,
    tally: await mysqlTally(p.db, sale.id),
    nowMs: now,
  });
  saleDrift.set({ sale: String(sale.id) }, report.drift);
  return report;
}

async function republish(p: Platform, store: SaleStore, saleId: number, stale: HeldReservation[], now: number) {
  const sent: string[] = [];
  for (const { requestId, reservation } of stale.slice(0, 1000)) {
    const { userId, seq, admittedAtMs } = reservation;
    const message: OrderMessage = { saleId, requestId, userId, seq, admittedAtMs };
    try {
      await p.mq.publish(ORDERS_QUEUE, message, requestId);
      sent.push(requestId);
    } catch (err) {
      p.log.warn({ err: (err as Error).message, saleId, requestId }, "re-publish failed; next run retries");
      break;
    }
  }
  await store.markRepublished(saleId, sent, now);
}
