import type { ResultSetHeader, RowDataPacket } from "mysql2";
import { first } from "../../platform/checked";
import type { Database, Tx } from "../../platform/db";

/** How a naive purchase ended. */
export type NaiveOutcome =
  | { kind: "ordered"; orderId: number }
  | { kind: "refused"; reason: "sold_out" | "limit_reached" | "duplicate_request" };

/**
 * The purchase as a user would write it without floodgate: one MySQL transaction per request that
 * takes the sale's row lock with a conditional UPDATE, counts the user's orders and INSERTs one.
 * Every purchase of a sale waits for the previous one's commit on that row: the benchmark's baseline.
 */
export async function naivePurchase(
  db: Database,
  saleId: number,
  userId: number,
  requestId: string,
): Promise<NaiveOutcome> {
  return db
    .transaction(null, (tx) => purchaseIn(tx, saleId, userId, requestId))
    .catch((err: unknown) => {
      if (err instanceof Refused) return { kind: "refused", reason: err.reason } satisfies NaiveOutcome;
      throw err;
    });
}

/** Thrown inside the transaction so that it rolls back. */
class Refused extends Error {
  constructor(readonly reason: "limit_reached" | "duplicate_request") {
    super(reason);
  }
}

async function purchaseIn(tx: Tx, saleId: number, userId: number, requestId: string): Promise<NaiveOutcome> {
  {
    const [taken] = await tx.execute<ResultSetHeader>(
      `UPDATE flash_sales SET remaining = remaining - 1
        WHERE id = ? AND remaining > 0 AND NOW(3) BETWEEN starts_at AND ends_at`,
      [saleId],
    );
    if (taken.affectedRows !== 1) return { kind: "refused", reason: "sold_out" };
    const [counts] = await tx.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n, (SELECT per_user_limit FROM flash_sales WHERE id = ?) AS lim
         FROM orders WHERE flash_sale_id = ? AND user_id = ?`,
      [saleId, saleId, userId],
    );
    const mine = first(counts, "the user's order count and limit");
    if (Number(mine.n) >= Number(mine.lim)) throw new Refused("limit_reached");
    try {
      const [inserted] = await tx.execute<ResultSetHeader>(
        `INSERT INTO orders (user_id, request_id, flash_sale_id, seq, quantity, amount_cents)
         SELECT ?, ?, id, ?, 1, price_cents FROM flash_sales WHERE id = ?`,
        [userId, requestId, Number(mine.n) + 1, saleId],
      );
      return { kind: "ordered", orderId: inserted.insertId };
    } catch (err) {
      throw (err as { code?: string }).code === "ER_DUP_ENTRY" ? new Refused("duplicate_request") : err;
    }
  }
}
