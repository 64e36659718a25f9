import type { Reservation } from "./admission";

/** What Redis said about an admitted (or already known) request, as the hand-off needs it. */
export interface Admitted {
  /** Admitted by this call (not a retry of a request Redis already held). */
  fresh: boolean;
  /** The reservation Redis holds, or null when it knows only the order's confirmation. */
  reservation: Reservation | null;
  /** MySQL has decided the request: its order confirmed, or refused for good. */
  settled: boolean;
  /** A replica acknowledged the admission script (WAIT 1) before the answer. */
  replicated: boolean;
}

/** The next step of a hand-off; the publishing steps carry the reservation they publish. */
export type HandOff =
  | { step: "accept" }
  | { step: "ask-replicas" }
  | { step: "unknown" }
  | { step: "publish-and-accept"; reservation: Reservation }
  | { step: "publish-or-unknown"; reservation: Reservation };

/**
 * The next step of an admission, as a 202 may only go out for a request that survives a Redis
 * failover:
 * - `accept`: nothing to hand off (MySQL has decided it, or only its confirmation is left), or a
 *   retry of a reservation that is safe (on a replica, or on a master without one): its first
 *   attempt published it, or — when that attempt answered 503 unpublished — the reconciler does
 *   after 5 s (re-publishing on every retry would double the queue under retrying clients);
 * - `publish-and-accept`: a replica holds the reservation; publish (best effort: the reconciler
 *   re-publishes a reservation without an order) and answer 202;
 * - `ask-replicas`: no replica acknowledged in time; whether the master has one decides;
 * - `publish-or-unknown`: the master has no replica, so no failover can lose the reservation, and
 *   a confirmed publish makes it durable: 202 once confirmed, else 503;
 * - `unknown`: a replica exists but does not hold it (or the master is being replaced): a failover
 *   could still erase it, so nothing is published and the answer is 503. If it survives, the
 *   reconciler publishes it and the client's retry (same key, same requestId) finds it; if it is
 *   lost, nothing was promised and nothing was sent.
 * `replicaOnline` is the answer to `ask-replicas` (null: the node is no longer a master).
 */
export function planHandOff(a: Admitted): HandOff;
export function planHandOff(a: Admitted, replicaOnline: boolean | null): Exclude<HandOff, { step: "ask-replicas" }>;
export function planHandOff(a: Admitted, replicaOnline?: boolean | null): HandOff {
  const r = a.reservation;
  if (a.settled || !r) return { step: "accept" };
  if (a.replicated) return a.fresh ? { step: "publish-and-accept", reservation: r } : { step: "accept" };
  if (replicaOnline === undefined) return { step: "ask-replicas" };
  if (replicaOnline !== false) return { step: "unknown" };
  return a.fresh ? { step: "publish-or-unknown", reservation: r } : { step: "accept" };
}
