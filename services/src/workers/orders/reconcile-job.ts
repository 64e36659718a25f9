import { reconcileSale } from "../../modules/flash-sales/reconcile";
import { recentSales } from "../../modules/flash-sales/repository";
import { SaleStore } from "../../modules/flash-sales/sale-store";
import type { WorkerContext } from "../runtime";
import { every, type Periodic } from "../periodic";

/** Sales ended longer ago than this are left alone. */
const RECENT_SECONDS = 24 * 3600;

/**
 * Reconcile every running or recent sale every `intervalMs`. Each sale's run takes that sale's
 * Redis lock, so with several workers one of them reconciles a given sale at a time.
 */
export function startReconcileJob(ctx: WorkerContext, intervalMs = 2000): Periodic {
  const store = new SaleStore(ctx.platform.redis);
  const runOnce = async () => {
    for (const sale of await recentSales(ctx.platform.db, RECENT_SECONDS)) {
      const report = await reconcileSale(ctx.platform, store, sale.id);
      if (report && (report.drift !== 0 || report.republished > 0 || report.restored > 0))
        ctx.log.warn({ report }, "reconciliation repaired drift");
    }
  };
  return every(intervalMs, "reconciliation", ctx.log, runOnce);
}
