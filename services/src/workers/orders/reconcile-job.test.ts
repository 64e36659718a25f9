import type { Reconciliation } from "../../modules/flash-sales/schema";
import { settledSale } from "./reconcile-job";

const clean: Reconciliation = {
  saleId: 1,
  stock: 10,
  orders: 10,
  reservations: 10,
  failed: 0,
  pending: 0,
  republished: 0,
  restored: 0,
  redisRemainingBefore: 0,
  redisRemaining: 0,
  mysqlRemaining: 0,
  drift: 0,
  mysqlConsistent: true,
  at: "2026-11-29T10:00:00.000Z",
};
const now = Date.parse("2026-11-29T10:00:00.000Z");
const endedAgo = (ms: number) => ({ endsAt: new Date(now - ms) });

describe("settledSale", () => {
  it.each([
    ["an ended sale a clean run found nothing to do for", endedAgo(60_000), {}, true],
    ["a sale still running", endedAgo(-60_000), {}, false],
    ["a sale that ended a moment ago (admissions may be in flight)", endedAgo(1000), {}, false],
    ["a reservation still pending", endedAgo(60_000), { pending: 1 }, false],
    ["drift just repaired", endedAgo(60_000), { drift: 2 }, false],
    ["reservations re-published this run", endedAgo(60_000), { republished: 3 }, false],
    ["reservations restored after a failover", endedAgo(60_000), { restored: 1 }, false],
    ["MySQL inconsistent", endedAgo(60_000), { mysqlConsistent: false }, false],
  ])("%s: %s", (_, sale, change, settled) => {
    expect(settledSale(sale, { ...clean, ...change }, now)).toBe(settled);
  });
});
