import { ConflictError, NotFoundError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { applyMovements, InsufficientBalance, movementOf } from "./repository";

const isDuplicate = (err: unknown) => (err as { code?: string }).code === "ER_DUP_ENTRY";

/**
 * An administrator credits a user, exactly once per Idempotency-Key: the ledger's unique operation id
 * (`topup:<key>`) absorbs retries. A replay answers the balance that top-up left; the same key for
 * another user or amount is 409 idempotency_key_reused.
 */
export async function topUp(
  p: Platform,
  userId: number,
  amountCents: number,
  key: string,
): Promise<{ balanceCents: number; created: boolean }> {
  const operationId = `topup:${key}`;
  try {
    const balanceCents = await p.db.transaction(`user:${userId}`, async (tx) => {
      await applyMovements(tx, [{ userId, kind: "top_up", cents: amountCents, operationId }]);
      const movement = await movementOf(tx, operationId);
      if (!movement) throw new Error(`ledger row ${operationId} not found right after its insert`);
      return movement.balanceAfterCents;
    });
    return { balanceCents, created: true };
  } catch (err) {
    if (err instanceof InsufficientBalance) throw NotFoundError("no such user");
    if (!isDuplicate(err)) throw err;
  }
  const prior = await p.db.transaction(null, (tx) => movementOf(tx, operationId));
  if (!prior || prior.userId !== userId || prior.cents !== amountCents)
    throw ConflictError("idempotency_key_reused", "that Idempotency-Key was used for another top-up");
  return { balanceCents: prior.balanceAfterCents, created: false };
}
