import type { OrderKeyRow } from "../../modules/flash-sales/repository";
import type { RequestOutcome } from "../../modules/flash-sales/sale-store";
import type { OrderMessage } from "../../modules/flash-sales/schema";
import { at, zip } from "../../platform/checked";
import type { OrderOutcome } from "./handler";

/** What a batch does with one message, decided under the sale's row lock. */
export type BatchDecision =
  | { kind: "new" }
  | { kind: "duplicate"; orderId: number }
  | { kind: "failed"; reason: "sold_out" | "limit_reached" }
  | { kind: "same"; as: number };

/** One message's result: how it counts, and what Redis records for its request. */
export interface BatchResult {
  outcome: OrderOutcome;
  record: RequestOutcome;
}

/**
 * Decide each message of one sale's batch in order, as `handleOrder` would one at a time: a request
 * that has its order is a duplicate; a (user, seq) already ordered is limit_reached; then units go
 * in arrival order while `remaining` lasts, the rest are sold_out. A request repeated within the
 * batch shares its first copy's fate. A request id ordered under another sale is left to the
 * insert: its unique key refuses the batch, which then goes through the one-by-one path.
 */
export function planBatch(
  saleId: number,
  remaining: number,
  messages: OrderMessage[],
  existing: OrderKeyRow[],
): BatchDecision[] {
  const byRequest = new Map(existing.map((r) => [r.requestId, r]));
  const seats = new Set(existing.filter((r) => r.saleId === saleId).map((r) => `${r.userId}:${r.seq}`));
  const firstCopy = new Map<string, number>();
  let units = remaining;
  return messages.map((m, i): BatchDecision => {
    const first = firstCopy.get(m.requestId);
    if (first !== undefined) return { kind: "same", as: first };
    firstCopy.set(m.requestId, i);
    const prior = byRequest.get(m.requestId);
    if (prior && prior.saleId === saleId) return { kind: "duplicate", orderId: prior.id };
    const seat = `${m.userId}:${m.seq}`;
    if (seats.has(seat)) return { kind: "failed", reason: "limit_reached" };
    if (units <= 0) return { kind: "failed", reason: "sold_out" };
    seats.add(seat);
    units -= 1;
    return { kind: "new" };
  });
}

/** The users a committed plan leaves with an order (new or earlier): their reads and caches must see it. */
export function ordersOwners(plan: BatchDecision[], messages: OrderMessage[]): number[] {
  const owners = new Set<number>();
  for (const [d, m] of zip(plan, messages, "the plan and its messages")) {
    const fate = d.kind === "same" ? at(plan, d.as, "the decision of a repeated request's first copy") : d;
    if (fate.kind === "new" || fate.kind === "duplicate") owners.add(m.userId);
  }
  return [...owners];
}

/** Turn a committed plan into results; `orderIds` maps each new order's request id to its id. */
export function batchResults(
  plan: BatchDecision[],
  messages: OrderMessage[],
  orderIds: Map<string, number>,
): BatchResult[] {
  const results: BatchResult[] = [];
  for (const [d, m] of zip(plan, messages, "the plan and its messages")) {
    if (d.kind === "new") {
      const orderId = orderIds.get(m.requestId);
      if (orderId === undefined) throw new Error(`order of ${m.requestId} not found after its insert`);
      results.push({ outcome: "processed", record: { kind: "confirmed", orderId } });
    } else if (d.kind === "duplicate")
      results.push({ outcome: "duplicate", record: { kind: "confirmed", orderId: d.orderId } });
    else if (d.kind === "failed") results.push({ outcome: "failed", record: { kind: "failed", reason: d.reason } });
    else {
      const first = at(results, d.as, "the result of a repeated request's first copy");
      results.push({ outcome: first.outcome === "failed" ? "failed" : "duplicate", record: first.record });
    }
  }
  return results;
}
