import { reconcileSale } from "../../modules/flash-sales/reconcile";
import { recentSales, type SaleRow } from "../../modules/flash-sales/repository";
import { SaleStore } from "../../modules/flash-sales/sale-store";
import type { Reconciliation } from "../../modules/flash-sales/schema";
import type { WorkerContext } from "../runtime";
import { every, type Periodic } from "../periodic";

/** Sales ended longer ago than this are left alone. */
const RECENT_SECONDS = 24 * 3600;

/** How long after its end a sale must be before a clean run settles it (admissions at the bell may be in flight). */
const ENDED_GRACE_MS = 5000;

/**
 * How long a settled sale's Redis keys live on (Redis runs noeviction: kept for good, large sales
 * would fill a shard). Meanwhile a late poll is answered from Redis; after it, from MySQL, which
 * holds every order (a request MySQL refused then reads as unknown: 404).
 */
export const SETTLED_KEYS_TTL_SECONDS = 24 * 3600;

/**
 * Whether a sale needs no more reconciliation: it has ended (no admission can change it) and a run
 * found nothing to repair — no drift, nothing pending or re-published, MySQL consistent.
 */
export function settledSale(sale: Pick<SaleRow, "endsAt">, report: Reconciliation, nowMs: number): boolean {
  return (
    sale.endsAt.getTime() + ENDED_GRACE_MS < nowMs &&
    report.drift === 0 &&
    report.pending === 0 &&
    report.republished === 0 &&
    report.restored === 0 &&
    report.mysqlConsistent
  );
}

/**
 * Reconcile every running or recent sale every `intervalMs`. Each sale's run takes that sale's
 * Redis lock, so with several workers one of them reconciles a given sale at a time. A run reads
 * all of a sale's reservations and orders, so once an ended sale is settled this process skips it:
 * a sale of a million units would otherwise cost two full scans every interval for a day. A settled
 * sale's keys are set to expire after SETTLED_KEYS_TTL_SECONDS.
 */
export function startReconcileJob(ctx: WorkerContext, intervalMs = 2000): Periodic {
  const store = new SaleStore(ctx.platform.redis);
  const settled = new Set<number>();
  const runOnce = async () => {
    for (const sale of await recentSales(ctx.platform.db, RECENT_SECONDS)) {
      if (settled.has(sale.id)) continue;
      const report = await reconcileSale(ctx.platform, store, sale.id);
      if (report && (report.drift !== 0 || report.republished > 0 || report.restored > 0))
        ctx.log.warn({ report }, "reconciliation repaired drift");
      if (report && settledSale(sale, report, Date.now())) {
        await store.expire(sale.id, SETTLED_KEYS_TTL_SECONDS);
        settled.add(sale.id);
      }
    }
  };
  return every(intervalMs, "reconciliation", ctx.log, runOnce);
}
