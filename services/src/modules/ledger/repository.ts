import type { ResultSetHeader, RowDataPacket } from "mysql2";
import type { Database, Tx } from "../../platform/db";

/** Why money moved; the ledger's `kind` column. */
export type MovementKind = "opening" | "top_up" | "packet_debit" | "grab_credit" | "packet_refund";

/** One movement of money: signed cents (credit > 0, debit < 0) and the operation that caused it. */
export interface Movement {
  userId: number;
  kind: MovementKind;
  cents: number;
  /** Unique across the ledger (topup:<key>, rp:<id>, rp:<id>:grab:<user>, rp:<id>:refund). */
  operationId: string;
}

/** The debit would take a balance below zero (or the user does not exist): nothing was changed. */
export class InsufficientBalance extends Error {
  constructor(readonly userIds: number[]) {
    super(`balance too low or no such user: ${userIds.join(", ")}`);
    this.name = "InsufficientBalance";
  }
}

/**
 * Change balances and append their ledger rows, in the caller's transaction: the only way a balance
 * changes. One statement updates every user (in id order, so two batches lock users in the same
 * order); a debit only applies while it leaves the balance at zero or above, and if any row is left
 * unchanged nothing is written (InsufficientBalance, the caller's transaction rolls back). The ledger
 * rows then record each amount with the balance after it. ER_DUP_ENTRY: an operation already recorded.
 * Users must be distinct within one call.
 */
export async function applyMovements(tx: Tx, movements: Movement[]): Promise<void> {
  if (movements.length === 0) return;
  const sorted = [...movements].sort((a, b) => a.userId - b.userId);
  const ids = sorted.map((m) => m.userId);
  const [result] = await tx.query<ResultSetHeader>(
    `UPDATE users SET balance_cents = balance_cents + CASE id ${sorted.map(() => "WHEN ? THEN ?").join(" ")} END
     WHERE id IN (?) AND balance_cents + CASE id ${sorted.map(() => "WHEN ? THEN ?").join(" ")} END >= 0 ORDER BY id`,
    [...sorted.flatMap((m) => [m.userId, m.cents]), ids, ...sorted.flatMap((m) => [m.userId, m.cents])],
  );
  if (result.affectedRows !== sorted.length) {
    const [rows] = await tx.query<RowDataPacket[]>("SELECT id, balance_cents FROM users WHERE id IN (?)", [ids]);
    const balances = new Map(rows.map((r) => [Number(r.id), Number(r.balance_cents)]));
    throw new InsufficientBalance(sorted.filter((m) => !balances.has(m.userId) || m.cents < 0).map((m) => m.userId));
  }
  await tx.query(
    `INSERT INTO ledger (user_id, kind, amount_cents, balance_after_cents, operation_id) VALUES ${sorted
      .map(() => "(?, ?, ?, (SELECT balance_cents FROM users WHERE id = ?), ?)")
      .join(", ")}`,
    sorted.flatMap((m) => [m.userId, m.kind, m.cents, m.userId, m.operationId]),
  );
}

/** A recorded movement, looked up by its operation id (in the caller's transaction, or on the primary). */
export interface LedgerRow {
  userId: number;
  kind: MovementKind;
  cents: number;
  balanceAfterCents: number;
}

/** The movement an operation id recorded, if any (a locking read: the caller decides on it). */
export async function movementOf(tx: Tx, operationId: string): Promise<LedgerRow | null> {
  const [rows] = await tx.query<RowDataPacket[]>(
    `SELECT user_id AS userId, kind, amount_cents AS cents, balance_after_cents AS balanceAfterCents
       FROM ledger WHERE operation_id = ? LOCK IN SHARE MODE`,
    [operationId],
  );
  const r = rows[0];
  return r
    ? { userId: Number(r.userId), kind: r.kind, cents: Number(r.cents), balanceAfterCents: Number(r.balanceAfterCents) }
    : null;
}

/** A user's balance, read-your-writes for the user (their top-ups and packets); null when no such user. */
export async function readBalance(db: Database, userId: number): Promise<number | null> {
  const rows = await db.read<{ balance: number }>(
    "SELECT balance_cents AS balance FROM users WHERE id = ?",
    [userId],
    `user:${userId}`,
  );
  return rows[0] ? Number(rows[0].balance) : null;
}
