import type { Reservation } from "./admission";
import type { FlashSale, PurchaseStatus } from "./schema";

/** A sale's status at `nowMs` (Redis's clock: the one that admits), with `remaining` units. */
export function saleStatus(
  sale: { startsAt: Date; endsAt: Date },
  remaining: number,
  nowMs: number,
): FlashSale["status"] {
  if (nowMs < sale.startsAt.getTime()) return "scheduled";
  if (nowMs >= sale.endsAt.getTime()) return "ended";
  return remaining <= 0 ? "sold_out" : "active";
}

/** A request's state in Redis. */
export interface RequestState {
  reservation: Reservation | null;
  orderId: number | null;
  failReason: string | null;
}

/**
 * What a status poll answers: the request's `status`; `not_found` (no such request, or another
 * user's: a purchase is its purchaser's only); `unknown` (Redis could not answer and MySQL has no
 * order: 503); or `ask-mysql` when Redis alone cannot tell.
 */
export type StatusAnswer =
  { kind: "status"; status: PurchaseStatus } | { kind: "not_found" } | { kind: "unknown" } | { kind: "ask-mysql" };

/** The answer from Redis alone (`state` null: Redis could not answer), or `ask-mysql`. */
export function statusFromRedis(
  state: RequestState | null,
  userId: number,
): Exclude<StatusAnswer, { kind: "unknown" }> {
  if (state?.reservation && state.reservation.userId !== userId) return { kind: "not_found" };
  if (state?.orderId) return { kind: "status", status: { status: "confirmed", orderId: state.orderId } };
  if (state?.failReason) return { kind: "status", status: { status: "failed", reason: state.failReason } };
  return { kind: "ask-mysql" };
}

/**
 * The answer once MySQL, the source of truth for confirmed orders (Redis may have lost them, or be
 * down), was asked: its order wins; else a reservation Redis holds is still queued.
 */
export function statusWithOrder(
  state: RequestState | null,
  order: { id: number; userId: number } | null,
  userId: number,
): Exclude<StatusAnswer, { kind: "ask-mysql" }> {
  if (order)
    return order.userId === userId
      ? { kind: "status", status: { status: "confirmed", orderId: order.id } }
      : { kind: "not_found" };
  if (state?.reservation) return { kind: "status", status: { status: "queued" } };
  return state ? { kind: "not_found" } : { kind: "unknown" };
}
