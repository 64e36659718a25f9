/**
 * Redis keys of one flash sale. Every key carries the hash tag `{fs:<id>}`, so all of a sale's keys
 * live in one cluster slot and one Lua script may touch them together (never mix tags: CROSSSLOT).
 */
export function saleKeys(saleId: number) {
  const tag = `{fs:${saleId}}`;
  return {
    /** Hash: startsAtMs, endsAtMs, perUserLimit, stock (the sale's rules, copied from MySQL). */
    meta: `${tag}:meta`,
    /** String: units Redis may still admit. */
    stock: `${tag}:stock`,
    /** Hash: userId → reservations admitted for that user (the next seq is this + 1). */
    users: `${tag}:users`,
    /** Hash: requestId → "userId|seq|admittedAtMs": the durable record of every admitted request. */
    reservations: `${tag}:reservations`,
    /** Hash: Idempotency-Key → "userId|requestId". */
    idem: `${tag}:idem`,
    /** Hash: requestId → orderId, written by the worker after its commit. */
    confirmed: `${tag}:confirmed`,
    /** Hash: requestId → reason, for admitted requests MySQL refused (terminal). */
    failed: `${tag}:failed`,
    /** Hash: requestId → last re-publish time (ms), so the reconciler re-publishes at most every few seconds. */
    republished: `${tag}:republished`,
    /** String: the reconciliation lock of this sale. */
    lock: `${tag}:reconcile-lock`,
  };
}

/** The keys in the order the Lua scripts take them. */
export const scriptKeys = (saleId: number) => {
  const k = saleKeys(saleId);
  return [k.meta, k.stock, k.users, k.reservations, k.idem, k.confirmed, k.failed] as const;
};
