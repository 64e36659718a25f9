import type { Database } from "../../platform/db";
import { applyMovements, type Movement } from "../ledger/repository";
import {
  debitPacket,
  debitPacketBy,
  grabbersAmong,
  grabExists,
  insertGrab,
  insertGrabs,
  packetScope,
} from "./repository";

/** What persisting one admitted grab did: committed now, committed before, or refused by MySQL's guards. */
export type PersistOutcome = "persisted" | "duplicate" | "rejected";

const code = (err: unknown) => (err as { code?: string }).code;
// Two grabs of the same user on two packets can deadlock on the user's row; InnoDB picks a victim.
const RETRYABLE = new Set(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"]);
const ATTEMPTS = 3;

class Refused extends Error {}

/** The ledger row of a persisted grab: its one operation id makes a second credit impossible. */
const grabCredit = (packetId: number, userId: number, cents: number): Movement => ({
  userId,
  kind: "grab_credit",
  cents,
  operationId: `rp:${packetId}:grab:${userId}`,
});

/**
 * Persist one admitted grab in one transaction, idempotently: take the part off the packet (the
 * conditional update locks the packet's row first, so concurrent grabs of one packet queue there
 * instead of deadlocking on the foreign-key locks), record the grab (its unique key makes a
 * re-delivery a no-op), credit the grabber with its ledger row. Workers and the refund share it.
 */
export async function persistGrab(
  db: Database,
  packetId: number,
  userId: number,
  cents: number,
): Promise<PersistOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(packetScope(packetId), async (tx) => {
        if (!(await debitPacket(tx, packetId, cents))) {
          if (await grabExists(tx, packetId, userId)) return "duplicate";
          throw new Refused();
        }
        await insertGrab(tx, packetId, userId, cents);
        await applyMovements(tx, [grabCredit(packetId, userId, cents)]);
        return "persisted";
      });
    } catch (err) {
      if (code(err) === "ER_DUP_ENTRY") return "duplicate";
      if (err instanceof Refused || code(err) === "ER_NO_REFERENCED_ROW_2") return "rejected";
      if (!RETRYABLE.has(code(err) ?? "") || attempt >= ATTEMPTS) throw err;
    }
  }
}

/** An admitted grab on its way to MySQL. */
export interface AdmittedGrab {
  userId: number;
  cents: number;
}

/**
 * Persist admitted grabs of one packet in one transaction: skip those already recorded (a
 * re-delivery), take the rest off the packet with one conditional update, record them in one
 * insert and credit their grabbers in one update (in id order). If that does not go through as a
 * whole — MySQL refuses the debit, a concurrent run recorded one of them, a deadlock — each grab
 * goes through persistGrab on its own, so every grab still gets its own outcome (or its own error,
 * for the caller to leave for a retry). Outcomes are in the order of `grabs`.
 */
export async function persistGrabs(
  db: Database,
  packetId: number,
  grabs: AdmittedGrab[],
): Promise<Array<PersistOutcome | Error>> {
  const users = new Set(grabs.map((g) => g.userId));
  // A packet gives a user one part: two items of one user (a re-queued copy) take the slow path.
  if (grabs.length > 1 && users.size === grabs.length) {
    try {
      return await db.transaction(packetScope(packetId), async (tx) => {
        const done = await grabbersAmong(tx, packetId, [...users]);
        const fresh = grabs.filter((g) => !done.has(g.userId));
        if (fresh.length > 0) {
          const cents = fresh.reduce((sum, g) => sum + g.cents, 0);
          if (!(await debitPacketBy(tx, packetId, fresh.length, cents))) throw new Refused();
          await insertGrabs(tx, packetId, fresh);
          await applyMovements(
            tx,
            fresh.map((g) => grabCredit(packetId, g.userId, g.cents)),
          );
        }
        return grabs.map((g): PersistOutcome => (done.has(g.userId) ? "duplicate" : "persisted"));
      });
    } catch {
      // One by one below: each grab's own outcome (or its own error, for the caller to retry).
    }
  }
  const outcomes: Array<PersistOutcome | Error> = [];
  for (const g of grabs) {
    outcomes.push(await persistGrab(db, packetId, g.userId, g.cents).catch((err: Error) => err));
  }
  return outcomes;
}
