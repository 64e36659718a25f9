import type { ResultSetHeader, RowDataPacket } from "mysql2";
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

/** An order row as the batch writer checks it against a batch (any sale). */
export interface OrderKeyRow {
  id: number;
  requestId: string;
  saleId: number | null;
  userId: number;
  seq: number | null;
}

/** Lock a sale's row until the transaction ends (every order of the sale queues here); its remaining and price. */
export async function lockSale(tx: Tx, saleId: number): Promise<{ remaining: number; priceCents: number } | null> {
  const [rows] = await tx.query<RowDataPacket[]>(
    "SELECT remaining, price_cents AS priceCents FROM flash_sales WHERE id = ? FOR UPDATE",
    [saleId],
  );
  return rows[0] ? { remaining: Number(rows[0].remaining), priceCents: Number(rows[0].priceCents) } : null;
}

/** Orders holding one of `requestIds` (any sale), or any seq of one of `userIds` in this sale. */
export async function ordersClashing(
  tx: Tx,
  saleId: number,
  requestIds: string[],
  userIds: number[],
): Promise<OrderKeyRow[]> {
  const cols = "id, request_id AS requestId, flash_sale_id AS saleId, user_id AS userId, seq";
  const [rows] = await tx.query<RowDataPacket[]>(
    `SELECT ${cols} FROM orders WHERE request_id IN (?)
     UNION SELECT ${cols} FROM orders WHERE flash_sale_id = ? AND user_id IN (?)`,
    [requestIds, saleId, userIds],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    requestId: String(r.requestId),
    saleId: r.saleId === null ? null : Number(r.saleId),
    userId: Number(r.userId),
    seq: r.seq === null ? null : Number(r.seq),
  }));
}

/** Take `n` units at once: false when fewer remain (the conditional update is the final guard). */
export async function takeUnits(tx: Tx, saleId: number, n: number): Promise<boolean> {
  const [result] = await tx.execute<ResultSetHeader>(
    "UPDATE flash_sales SET remaining = remaining - ? WHERE id = ? AND remaining >= ?",
    [n, saleId, n],
  );
  return result.affectedRows === 1;
}

/** Insert orders at `priceCents` in one statement; ER_DUP_ENTRY refuses them all. */
export async function insertSaleOrders(
  tx: Tx,
  saleId: number,
  priceCents: number,
  orders: Array<{ userId: number; requestId: string; seq: number }>,
): Promise<void> {
  await tx.query("INSERT INTO orders (user_id, request_id, flash_sale_id, seq, quantity, amount_cents) VALUES ?", [
    orders.map((o) => [o.userId, o.requestId, saleId, o.seq, 1, priceCents]),
  ]);
}

/** Order ids by request id, from the primary (read back: consecutive insert ids are not promised everywhere). */
export async function orderIdsByRequest(db: Database, requestIds: string[]): Promise<Map<string, number>> {
  if (requestIds.length === 0) return new Map();
  const marks = requestIds.map(() => "?").join(", ");
  const rows = await db.readPrimary<{ id: number; request_id: string }>(
    `SELECT id, request_id FROM orders WHERE request_id IN (${marks})`,
    requestIds,
  );
  return new Map(rows.map((r) => [String(r.request_id), Number(r.id)]));
}
