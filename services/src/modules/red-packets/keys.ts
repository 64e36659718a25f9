/**
 * Redis keys of one red packet. Every key carries the hash tag `{rp:<id>}`, so they all live in one
 * cluster slot and one Lua script may touch them together (mixing tags fails with CROSSSLOT).
 */
export function packetKeys(packetId: number) {
  const tag = `{rp:${packetId}}`;
  return {
    /** Hash: expiresAtMs, and `closed` once the refund has begun (no grab is admitted after it). */
    meta: `${tag}:meta`,
    /** List: the parts nobody has grabbed yet (cents). */
    parts: `${tag}:parts`,
    /** Hash: userId → cents: every admitted grab (the durable record the refund persists from). */
    grabbed: `${tag}:grabbed`,
    /** List: admitted grabs waiting for a worker ("userId:cents:admittedAtMs"). */
    queue: `${tag}:queue`,
    /** List: grabs a worker has claimed and not yet committed. */
    processing: `${tag}:processing`,
    /** Hash: processing item → claim time (ms), for the reaper. */
    claims: `${tag}:claims`,
    /** List: grabs MySQL refused (should stay empty; kept for inspection, never retried). */
    dead: `${tag}:dead`,
  };
}

/** Sorted set of packet ids (score: expiry ms) that workers look at; one global key by design. */
export const ACTIVE_PACKETS_KEY = "rp:active";

/** One admitted grab as it travels through the queue. */
export interface GrabItem {
  userId: number;
  amountCents: number;
  admittedAtMs: number;
}

/** Parse a queue item; null for anything malformed. */
export function parseGrabItem(raw: string): GrabItem | null {
  const m = /^([1-9][0-9]*):([1-9][0-9]*):([0-9]+)$/.exec(raw);
  if (!m) return null;
  return { userId: Number(m[1]), amountCents: Number(m[2]), admittedAtMs: Number(m[3]) };
}
