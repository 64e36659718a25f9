import {
  driftOf,
  dueForRepublish,
  lostOrders,
  mysqlConsistent,
  mysqlOnlyReport,
  pendingReservations,
  reconciliationReport,
  type HeldReservation,
} from "./reconcile-plan";
import type { RepairResult } from "./sale-store";

const now = Date.parse("2026-11-29T10:00:00.000Z");
const staleMs = 5000;
const held = (requestId: string, admittedAgoMs: number): HeldReservation => ({
  requestId,
  reservation: { userId: 7, seq: 1, admittedAtMs: now - admittedAgoMs },
});

describe("lostOrders", () => {
  it.each([
    ["Redis holds every order's reservation", ["a", "b"], ["a", "b", "c"], []],
    ["a failover lost two reservations", ["a", "b", "c"], ["b"], ["a", "c"]],
    ["Redis lost the whole sale", ["a", "b"], [], ["a", "b"]],
    ["no orders yet", [], ["a"], []],
  ])("%s", (_, ordered, reserved, lost) => {
    const reservations = new Map(reserved.map((rid) => [rid, `7|1|${now}`]));
    expect(
      lostOrders(
        ordered.map((requestId) => ({ requestId })),
        reservations,
      ).map((o) => o.requestId),
    ).toEqual(lost);
  });
});

describe("pendingReservations", () => {
  it.each([
    ["each reservation with its order", ["a", "b"], ["a", "b"], [], []],
    ["one without an order", ["a", "b"], ["a"], [], ["b"]],
    ["one MySQL refused for good (failed) is not pending", ["a", "b"], ["a"], ["b"], []],
    ["none ordered yet", ["a", "b", "c"], [], ["c"], ["a", "b"]],
  ])("%s", (_, reserved, ordered, failed, pending) => {
    const reservations = new Map(reserved.map((rid, i) => [rid, `7|${i + 1}|${now}`]));
    const found = pendingReservations(reservations, new Set(ordered), new Map(failed.map((rid) => [rid, "sold_out"])));
    expect(found.map((p) => p.requestId)).toEqual(pending);
    for (const p of found)
      expect(p.reservation).toEqual({ userId: 7, seq: reserved.indexOf(p.requestId) + 1, admittedAtMs: now });
  });
});

describe("dueForRepublish", () => {
  it.each([
    ["admitted a moment ago: its hand-off may still land", 1000, undefined, false],
    ["admitted exactly staleMs ago: not yet", staleMs, undefined, false],
    ["admitted longer ago, never re-published", staleMs + 1, undefined, true],
    ["old, re-published a moment ago", 60_000, now - 1000, false],
    ["old, re-published longer than staleMs ago", 60_000, now - staleMs - 1, true],
  ])("%s → %s", (_, admittedAgoMs, republishedAt, due) => {
    const republished = new Map(republishedAt === undefined ? [] : [["a", String(republishedAt)]]);
    expect(dueForRepublish([held("a", admittedAgoMs)], republished, now, staleMs)).toEqual(
      due ? [held("a", admittedAgoMs)] : [],
    );
  });
});

describe("driftOf", () => {
  it.each([
    ["Redis and the reservations agree", 3, 3, 0],
    ["Redis would admit two more than it should", 5, 3, 2],
    ["Redis would undersell one unit", 2, 3, -1],
    ["Redis had no counter (it lost the sale): as 0, it would admit none of the 3", null, 3, -3],
  ])("%s → %s", (_, remainingBefore, remainingAfter, drift) => {
    expect(driftOf({ remainingBefore, remainingAfter })).toBe(drift);
  });
});

describe("mysqlConsistent", () => {
  it.each([
    ["remaining + orders = stock", 10, { remaining: 4, orders: 6 }, true],
    ["a unit taken without its order", 10, { remaining: 3, orders: 6 }, false],
    ["an order without its unit taken", 10, { remaining: 4, orders: 7 }, false],
  ])("%s → %s", (_, stock, tally, consistent) => {
    expect(mysqlConsistent(stock, tally)).toBe(consistent);
  });
});

describe("reconciliationReport", () => {
  it("reports what the run found and repaired, with drift measured before the repair", () => {
    const repair: RepairResult = { restored: 1, reservations: 8, failed: 1, remainingBefore: 5, remainingAfter: 3 };
    expect(
      reconciliationReport({
        sale: { id: 9, stock: 10 },
        orders: 6,
        repair,
        pending: 1,
        republished: 1,
        tally: { remaining: 4, orders: 6 },
        nowMs: now,
      }),
    ).toEqual({
      saleId: 9,
      stock: 10,
      orders: 6,
      reservations: 8,
      failed: 1,
      pending: 1,
      republished: 1,
      restored: 1,
      redisRemainingBefore: 5,
      redisRemaining: 3,
      mysqlRemaining: 4,
      drift: 2,
      mysqlConsistent: true,
      at: "2026-11-29T10:00:00.000Z",
    });
  });

  it("reports an ended sale Redis no longer holds from MySQL alone, with nothing to repair", () => {
    expect(mysqlOnlyReport({ id: 9, stock: 10 }, { remaining: 0, orders: 10 }, now)).toEqual({
      saleId: 9,
      stock: 10,
      orders: 10,
      reservations: 0,
      failed: 0,
      pending: 0,
      republished: 0,
      restored: 0,
      redisRemainingBefore: null,
      redisRemaining: 0,
      mysqlRemaining: 0,
      drift: 0,
      mysqlConsistent: true,
      at: "2026-11-29T10:00:00.000Z",
    });
  });
});
