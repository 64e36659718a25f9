import type { ResultSetHeader, RowDataPacket } from "mysql2";
import { first } from "../../platform/checked";
import type { Database, Tx } from "../../platform/db";
import type { Order } from "./schema";

interface OrderRow {
  id: number;
  request_id: string;
  product_id: number | null;
  flash_sale_id: number | null;
  quantity: number;
  amount_cents: number;
  status: "confirmed" | "cancelled";
  created_at: Date;
}

const COLUMNS = "id, request_id, product_id, flash_sale_id, quantity, amount_cents, status, created_at";

function toOrder(r: OrderRow): Order {
  return {
    id: Number(r.id),
    requestId: r.request_id,
    productId: r.product_id === null ? null : Number(r.product_id),
    flashSaleId: r.flash_sale_id === null ? null : Number(r.flash_sale_id),
    quantity: Number(r.quantity),
    amountCents: Number(r.amount_cents),
    status: r.status,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/** An active product's price, locked for the duration of the transaction. */
export async function productPrice(tx: Tx, productId: number): Promise<number | null> {
  const [rows] = await tx.execute<RowDataPacket[]>(
    "SELECT price_cents FROM products WHERE id = ? AND active = 1 LOCK IN SHARE MODE",
    [productId],
  );
  return rows[0] ? Number(rows[0].price_cents) : null;
}

/** Insert an order; ER_DUP_ENTRY on request_id means the request was already served. */
export async function insertOrder(
  tx: Tx,
  o: { userId: number; requestId: string; productId: number; quantity: number; amountCents: number },
): Promise<number> {
  const [result] = await tx.execute<ResultSetHeader>(
    "INSERT INTO orders (user_id, request_id, product_id, quantity, amount_cents) VALUES (?, ?, ?, ?, ?)",
    [o.userId, o.requestId, o.productId, o.quantity, o.amountCents],
  );
  return result.insertId;
}

/** An order as its own transaction sees it (before the commit, so the answer needs no read after it). */
export async function orderInTx(tx: Tx, id: number): Promise<Order> {
  const [rows] = await tx.execute<(OrderRow & RowDataPacket)[]>(`SELECT ${COLUMNS} FROM orders WHERE id = ?`, [id]);
  return toOrder(first(rows, `order ${id} in its own transaction`));
}

/** The order a request id produced, on the primary (idempotent replays must see it at once). */
export async function orderByRequest(db: Database, requestId: string): Promise<(Order & { userId: number }) | null> {
  const rows = await db.readPrimary<OrderRow & { user_id: number }>(
    `SELECT ${COLUMNS}, user_id FROM orders WHERE request_id = ?`,
    [requestId],
  );
  return rows[0] ? { ...toOrder(rows[0]), userId: Number(rows[0].user_id) } : null;
}

/** A user's orders, newest first, older than `beforeId` when given; read-your-writes for that user. */
export async function listOrders(db: Database, userId: number, limit: number, beforeId?: number): Promise<Order[]> {
  const rows = await db.read<OrderRow>(
    `SELECT ${COLUMNS} FROM orders WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ${Number(limit)}`,
    [userId, beforeId ?? Number.MAX_SAFE_INTEGER],
    `user:${userId}`,
  );
  return rows.map(toOrder);
}
