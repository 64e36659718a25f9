import type { RowDataPacket } from "mysql2";
import { purchaseRequestId } from "../../services/src/modules/flash-sales/request-id";
import type { InvariantCheck } from "../bench/results";
import { onPrimary, type LoadTarget } from "./target";

/** One client's purchase key and the requestId of every 202 it was sent for it (dropped answers too). */
export interface KeyedPurchase {
  key: string;
  userId: number;
  requestIds: string[];
}

/**
 * Whether requestIds and orders line up with the keys (pure): each key's 202s all name one request,
 * the one derived from its sale, user and key; every order is the request of some key the clients
 * sent (so a retry, a re-sent script or a re-published reservation never made a second order).
 */
export function keyCheck(saleId: number, purchases: KeyedPurchase[], orders: Map<string, number>): InvariantCheck {
  const byRequest = new Map(purchases.map((p) => [purchaseRequestId(saleId, p.userId, p.key), p]));
  const mixed = purchases.filter((p) => p.requestIds.some((r) => r !== purchaseRequestId(saleId, p.userId, p.key)));
  const strays = [...orders.keys()].filter((rid) => !byRequest.has(rid));
  const doubled = [...orders.values()].filter((n) => n > 1).length;
  const ordered = [...orders.keys()].filter((rid) => byRequest.has(rid)).length;
  return {
    name: "one order per key",
    ok: mixed.length === 0 && strays.length === 0 && doubled === 0,
    detail:
      `${purchases.length} keys, ${ordered} with an order; ${mixed.length} answered another requestId, ` +
      `${strays.length} orders of no key, ${doubled} requests with two orders`,
  };
}

/** The one-order-per-key invariant of a sale after a storm, against MySQL's orders. */
export async function oneOrderPerKey(t: LoadTarget, saleId: number, purchases: KeyedPurchase[]) {
  const orders = await onPrimary(t, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT request_id AS rid, COUNT(*) AS n FROM orders WHERE flash_sale_id = ? GROUP BY request_id",
      [saleId],
    );
    return new Map(rows.map((r) => [String(r.rid), Number(r.n)]));
  });
  return keyCheck(saleId, purchases, orders);
}
