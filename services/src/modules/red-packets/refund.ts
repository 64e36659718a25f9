import type { Database } from "../../platform/db";
import type { Logger } from "../../platform/log";
import { persistGrabs } from "./grab-ledger";
import type { PacketStore } from "./packet-store";
import { applyMovements } from "../ledger/repository";
import { markRefunded, persistedGrabbers, refundFacts } from "./repository";

/** What one refund attempt did. */
export type RefundResult =
  { outcome: "refunded"; cents: number } | { outcome: "not_expired" | "already_refunded" | "lost_race" | "not_found" };

/** How long a refunded packet's Redis keys linger (grabs keep answering "expired" from Redis meanwhile). */
const RETIRED_TTL_SECONDS = 3600;
/** Admitted grabs persisted at once while closing a packet. */
const PERSIST_BATCH = 100;

/** The creator's refund: what no persisted grab took. Grabs above the amount mean corrupted data: refuse. */
export function refundDue(amountCents: number, grabbedCents: number): number {
  if (grabbedCents > amountCents) throw new RangeError(`grabs (${grabbedCents}) exceed the amount (${amountCents})`);
  return amountCents - grabbedCents;
}

/**
 * Whether a refund runs, from the packet's row: `not_found`, `already_refunded` (its keys are
 * retired again, harmlessly), `not_expired` (grabs may still come), or `refund`.
 */
export function refundStep(
  state: { expired: boolean; refunded: boolean } | null,
): "not_found" | "already_refunded" | "not_expired" | "refund" {
  if (!state) return "not_found";
  if (state.refunded) return "already_refunded";
  return state.expired ? "refund" : "not_expired";
}

/**
 * Refund an expired packet's unclaimed remainder to its creator, exactly once, with money conserved:
 * 1. close it in Redis, so no grab is admitted after this point whatever the clocks say;
 * 2. persist every grab Redis admitted (idempotent — the workers may be doing the same), so none
 *    is left in a queue to land after the refund;
 * 3. in one transaction, flag it refunded (`refunded_at IS NULL` makes exactly one run win) and
 *    credit amount − persisted grabs, with its ledger row. Safe to run from any number of processes at once.
 */
export async function refundPacket(
  deps: { db: Database; store: PacketStore; log?: Logger },
  packetId: number,
): Promise<RefundResult> {
  const { db, store, log } = deps;
  const [state] = await db.readPrimary<{ expired: number; refunded: number }>(
    "SELECT expires_at <= NOW(3) AS expired, refunded_at IS NOT NULL AS refunded FROM red_packets WHERE id = ?",
    [packetId],
  );
  const step = refundStep(
    state === undefined ? null : { expired: Number(state.expired) === 1, refunded: Number(state.refunded) === 1 },
  );
  if (step === "already_refunded") await store.retire(packetId, RETIRED_TTL_SECONDS);
  if (step !== "refund") return { outcome: step };

  // A Redis error here throws: the refund waits for Redis rather than risk refunding a queued grab.
  if (!(await store.close(packetId, Date.now())))
    log?.warn({ packetId }, "red packet unknown to Redis at refund: refunding from MySQL alone");
  const persisted = await persistedGrabbers(db, packetId);
  const grabs = [...(await store.grabbed(packetId))].filter(([userId]) => !persisted.has(userId));
  for (let i = 0; i < grabs.length; i += PERSIST_BATCH) {
    const batch = grabs.slice(i, i + PERSIST_BATCH).map(([userId, cents]) => ({ userId, cents }));
    const outcomes = await persistGrabs(db, packetId, batch);
    const failed = outcomes.find((o): o is Error => o instanceof Error);
    if (failed) throw failed; // nothing is refunded until every admitted grab is in MySQL
    if (outcomes.includes("rejected")) log?.error({ packetId }, "MySQL refused an admitted grab while refunding");
  }

  const result = await db.transaction(null, async (tx): Promise<RefundResult> => {
    if (!(await markRefunded(tx, packetId))) return { outcome: "lost_race" };
    const facts = await refundFacts(tx, packetId);
    const cents = refundDue(facts.amountCents, facts.grabbedCents);
    if (cents !== facts.remainingCents) log?.error({ packetId, ...facts }, "red packet remaining_cents drifted");
    if (cents > 0)
      await applyMovements(tx, [
        { userId: facts.creatorId, kind: "packet_refund", cents, operationId: `rp:${packetId}:refund` },
      ]);
    return { outcome: "refunded", cents };
  });
  await store.retire(packetId, RETIRED_TTL_SECONDS).catch(() => undefined);
  return result;
}
