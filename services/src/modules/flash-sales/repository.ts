import type { ResultSetHeader } from "mysql2";
import type { Database, Tx } from "../../platform/db";

/** A flash_sales row as the service uses it. */
export interface SaleRow {
  id: number;
  name: string;
  priceCents: number;
  stock: number;
  remaining: number;
  perUserLimit: number;
  startsAt: Date;
  endsAt: Date;
}

const COLUMNS = `id, name, price_cents AS priceCents, stock, remaining, per_user_limit AS perUserLimit,
  starts_at AS startsAt, ends_at AS endsAt`;
const toSale = (r: SaleRow): SaleRow => ({
  ...r,
  id: Number(r.id),
  priceCents: Number(r.priceCents),
  stock: Number(r.stock),
  remaining: Number(r.remaining),
  perUserLimit: Number(r.perUserLimit),
});

/** Insert a sale with remaining = stock; returns its id. */
export async function insertSale(db: Database, s: Omit<SaleRow, "id" | "remaining">): Promise<number> {
  const result = await db.write<ResultSetHeader>(
    null,
    `INSERT INTO flash_sales (name, price_cents, stock, remaining, per_user_limit, starts_at, ends_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [s.name, s.priceCents, s.stock, s.stock, s.perUserLimit, s.startsAt, s.endsAt],
  );
  return result.insertId;
}

/** One sale from the primary (its remaining must not lag). */
export async function findSale(db: Database, id: number): Promise<SaleRow | null> {
  const rows = await db.readPrimary<SaleRow>(`SELECT ${COLUMNS} FROM flash_sales WHERE id = ?`, [id]);
  return rows[0] ? toSale(rows[0]) : null;
}

/** Sales still running or ended within `recentSeconds`: the ones the reconciler watches. */
export async function recentSales(db: Database, recentSeconds: number): Promise<SaleRow[]> {
  const rows = await db.readPrimary<SaleRow>(
    `SELECT ${COLUMNS} FROM flash_sales WHERE ends_at > NOW(3) - INTERVAL ${Number(recentSeconds)} SECOND`,
  );
  return rows.map(toSale);
}

/** A sale's orders (request, user, seq, time), from the primary. */
export async function saleOrders(
  db: Database,
  saleId: number,
): Promise<Array<{ requestId: string; userId: number; seq: number; createdMs: number }>> {
  const rows = await db.readPrimary<{ request_id: string; user_id: number; seq: number; created_at: Date }>(
    "SELECT request_id, user_id, seq, created_at FROM orders WHERE flash_sale_id = ?",
    [saleId],
  );
  return rows.map((r) => ({
    requestId: r.request_id,
    userId: Number(r.user_id),
    seq: Number(r.seq),
    createdMs: new Date(r.created_at).getTime(),
  }));
}

/** The order a flash-sale request produced, if any (primary). */
export async function saleOrderByRequest(
  db: Database,
  saleId: number,
  requestId: string,
): Promise<{ id: number; userId: number } | null> {
  const rows = await db.readPrimary<{ id: number; user_id: number }>(
    "SELECT id, user_id FROM orders WHERE request_id = ? AND flash_sale_id = ?",
    [requestId, saleId],
  );
  return rows[0] ? { id: Number(rows[0].id), userId: Number(rows[0].user_id) } : null;
}

/** Take one unit in MySQL: false when the sale is exhausted there (the conditional update is the final guard). */
export async function takeUnit(tx: Tx, saleId: number): Promise<boolean> {
  const [result] = await tx.execute<ResultSetHeader>(
    "UPDATE flash_sales SET remaining = remaining - 1 WHERE id = ? AND remaining > 0",
    [saleId],
  );
  return result.affectedRows === 1;
}

/** Insert the order at the sale's price; ER_DUP_ENTRY on request_id or (sale, user, seq) means "not again". */
export async function insertSaleOrder(
  tx: Tx,
  o: { saleId: number; userId: number; requestId: string; seq: number },
): Promise<number> {
  const [result] = await tx.execute<ResultSetHeader>(
    `INSERT INTO orders (user_id, request_id, flash_sale_id, seq, quantity, amount_cents)
     SELECT ?, ?, id, ?, 1, price_cents FROM flash_sales WHERE id = ?`,
    [o.userId, o.requestId, o.seq, o.saleId],
  );
  return result.insertId;
}

/** remaining and the order count in one statement (one consistent read), from the primary. */
export async function mysqlTally(db: Database, saleId: number): Promise<{ remaining: number; orders: number }> {
  const rows = await db.readPrimary<{ remaining: number; orders: number }>(
    `SELECT remaining, (SELECT COUNT(*) FROM orders WHERE flash_sale_id = f.id) AS orders
       FROM flash_sales f WHERE f.id = ?`,
    [saleId],
  );
  return { remaining: Number(rows[0]?.remaining ?? 0), orders: Number(rows[0]?.orders ?? 0) };
}
