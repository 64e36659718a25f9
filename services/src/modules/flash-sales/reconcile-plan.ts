import { parseReservation, type Reservation } from "./admission";
import type { SaleRow } from "./repository";
import type { RepairResult } from "./sale-store";
import type { Reconciliation } from "./schema";

/** A reservation Redis holds, by request. */
export interface HeldReservation {
  requestId: string;
  reservation: Reservation;
}

/** MySQL's remaining units and order count of a sale, read together. */
export interface MysqlTally {
  remaining: number;
  orders: number;
}

/** The MySQL orders whose reservation Redis no longer holds (lost in a failover): REPAIR restores them. */
export function lostOrders<O extends { requestId: string }>(
  orders: O[],
  reservations: ReadonlyMap<string, string>,
): O[] {
  return orders.filter((o) => !reservations.has(o.requestId));
}

/** Reservations still on their way to MySQL: no order yet and no terminal failure. */
export function pendingReservations(
  reservations: ReadonlyMap<string, string>,
  ordered: ReadonlySet<string>,
  failed: ReadonlyMap<string, string>,
): HeldReservation[] {
  return [...reservations]
    .filter(([requestId]) => !ordered.has(requestId) && !failed.has(requestId))
    .map(([requestId, raw]) => ({ requestId, reservation: parseReservation(raw) }));
}

/**
 * The pending reservations to re-publish now: admitted more than `staleMs` ago (their hand-off was
 * lost or unconfirmed) and not re-published within the last `staleMs` (consumers are idempotent, but
 * a re-publish every run would flood the queue with copies).
 */
export function dueForRepublish(
  pending: HeldReservation[],
  republished: ReadonlyMap<string, string>,
  nowMs: number,
  staleMs: number,
): HeldReservation[] {
  return pending.filter(
    (p) => nowMs - p.reservation.admittedAtMs > staleMs && nowMs - Number(republished.get(p.requestId) ?? 0) > staleMs,
  );
}

/** MySQL agrees with itself: every unit of stock is either remaining or in an order. */
export function mysqlConsistent(stock: number, tally: MysqlTally): boolean {
  return tally.remaining + tally.orders === stock;
}

/**
 * Drift, measured by REPAIR before it reset the counter: the Redis counter minus what the
 * reservations account for (remaining − (stock − (reservations − failed))). No counter before (Redis
 * had lost the sale) counts as 0: it would have admitted nothing, all of it undersold.
 */
export function driftOf(repair: Pick<RepairResult, "remainingBefore" | "remainingAfter">): number {
  return (repair.remainingBefore ?? 0) - repair.remainingAfter;
}

/** The report of a run that compared and repaired Redis. */
export function reconciliationReport(facts: {
  sale: Pick<SaleRow, "id" | "stock">;
  orders: number;
  repair: RepairResult;
  pending: number;
  republished: number;
  tally: MysqlTally;
  nowMs: number;
}): Reconciliation {
  const { sale, repair, tally } = facts;
  return {
    saleId: sale.id,
    stock: sale.stock,
    orders: facts.orders,
    reservations: repair.reservations,
    failed: repair.failed,
    pending: facts.pending,
    republished: facts.republished,
    restored: repair.restored,
    redisRemainingBefore: repair.remainingBefore,
    redisRemaining: repair.remainingAfter,
    mysqlRemaining: tally.remaining,
    drift: driftOf(repair),
    mysqlConsistent: mysqlConsistent(sale.stock, tally),
    at: new Date(facts.nowMs).toISOString(),
  };
}

/** The report of an ended sale Redis no longer holds: MySQL's tally, nothing to repair in Redis. */
export function mysqlOnlyReport(sale: Pick<SaleRow, "id" | "stock">, tally: MysqlTally, nowMs: number): Reconciliation {
  return {
    saleId: sale.id,
    stock: sale.stock,
    orders: tally.orders,
    reservations: 0,
    failed: 0,
    pending: 0,
    republished: 0,
    restored: 0,
    redisRemainingBefore: null,
    redisRemaining: tally.remaining,
    mysqlRemaining: tally.remaining,
    drift: 0,
    mysqlConsistent: mysqlConsistent(sale.stock, tally),
    at: new Date(nowMs).toISOString(),
  };
}
