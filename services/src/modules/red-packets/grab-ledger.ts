import type { Database } from "../../platform/db";
import { creditUser, debitPacket, grabExists, insertGrab, packetScope } from "./repository";

/** What persisting one admitted grab did: committed now, committed before, or refused by MySQL's guards. */
export type PersistOutcome = "persisted" | "duplicate" | "rejected";

const code = (err: unknown) => (err as { code?: string }).code;
// Two grabs of the same user on two packets can deadlock on the user's row; InnoDB picks a victim.
const RETRYABLE = new Set(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"]);
const ATTEMPTS = 3;

class Refused extends Error {}

/**
 * Persist one admitted grab in one transaction, idempotently: take the part off the packet (the
 * conditional update locks the packet's row first, so concurrent grabs of one packet queue there
 * instead of deadlocking on the foreign-key locks), record the grab (its unique key makes a
 * re-delivery a no-op), credit the grabber. Workers and the refund share it.
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
        await creditUser(tx, userId, cents);
        return "persisted";
      });
    } catch (err) {
      if (code(err) === "ER_DUP_ENTRY") return "duplicate";
      if (err instanceof Refused || code(err) === "ER_NO_REFERENCED_ROW_2") return "rejected";
      if (!RETRYABLE.has(code(err) ?? "") || attempt >= ATTEMPTS) throw err;
    }
  }
}
