import type { RowDataPacket } from "mysql2";
import { brokerCounts } from "../../runbooks/lib/broker";
import { amqpUrl } from "../../infra/targets";
import type { InvariantCheck } from "../bench/results";
import { adminToken, apiCall } from "./fixtures";
import { readConservation } from "../../services/src/modules/ledger/conservation";
import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { appRedis, eventually, onPrimary, type LoadTarget } from "./target";

/** A purchase the API accepted (202) and the buyer who can ask about it. */
export interface AcceptedPurchase {
  requestId: string;
  userId: number;
  token: string;
}

const check = (name: string, ok: boolean, detail: string): InvariantCheck => ({ name, ok, detail });

/** Wait until MySQL holds `expected` orders of the sale (or `timeoutMs` passes); returns the ms it took. */
export async function waitOrders(t: LoadTarget, saleId: number, expected: number, timeoutMs = 120_000) {
  const started = Date.now();
  await eventually(
    async () => ((await saleCounts(t, saleId)).orders >= expected ? true : undefined),
    timeoutMs,
    25,
  ).catch(() => undefined); // the invariants below say what is missing
  return Date.now() - started;
}

async function saleCounts(t: LoadTarget, saleId: number) {
  return onPrimary(t, async (conn) => {
    const [[row]] = await conn.query<RowDataPacket[]>(
      `SELECT stock, remaining, per_user_limit AS perUserLimit,
              (SELECT COUNT(*) FROM orders WHERE flash_sale_id = f.id) AS orders,
              (SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM orders WHERE flash_sale_id = ?
                 GROUP BY user_id) AS per_user) AS maxPerUser
         FROM flash_sales f WHERE f.id = ?`,
      [saleId, saleId],
    );
    if (!row) throw new Error(`no flash sale ${saleId}`);
    return {
      stock: Number(row.stock),
      remaining: Number(row.remaining),
      perUserLimit: Number(row.perUserLimit),
      orders: Number(row.orders),
      maxPerUser: Number(row.maxPerUser),
    };
  });
}

/**
 * The flash-sale invariants after a storm (docs/reliability.md, "The write path that loses nothing"): no oversell (orders + remaining = stock),
 * nobody over the limit, every 202 confirmed or failed with a reason the client is told, no order
 * the API did not accept, reconciliation drift zero, the orders queue drained.
 */
export async function saleInvariants(
  t: LoadTarget,
  saleId: number,
  accepted: AcceptedPurchase[],
  opts: { unanswered?: number } = {},
): Promise<InvariantCheck[]> {
  const c = await saleCounts(t, saleId);
  const orderIds = await onPrimary(t, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>("SELECT request_id FROM orders WHERE flash_sale_id = ?", [saleId]);
    return new Set(rows.map((r) => String(r.request_id)));
  });
  const acceptedIds = new Set(accepted.map((a) => a.requestId));
  const missing = accepted.filter((a) => !orderIds.has(a.requestId));
  const told = await Promise.all(missing.map((a) => purchaseState(t, saleId, a)));
  const unknown = told.filter((state) => !(state.status === "failed" && state.reason));
  const stray = [...orderIds].filter((id) => !acceptedIds.has(id)).length;
  const recon = await apiCall<Record<string, number | boolean>>(
    t,
    "GET",
    `/admin/flash-sales/${saleId}/reconciliation`,
    { token: await adminToken(t), expect: 200 },
  );
  // Every order is in MySQL by now, but a slow run may leave the reconciler's re-publications of
  // reservations whose order was still in flight: duplicates the workers must still consume.
  const ready = await eventually(
    async () => ((await queueReady(t, "orders")) === 0 ? 0 : undefined),
    30_000,
    100,
  ).catch(() => queueReady(t, "orders"));
  return [
    check(
      "no oversell",
      c.orders <= c.stock && c.orders + c.remaining === c.stock,
      `${c.orders} orders + ${c.remaining} remaining, stock ${c.stock}`,
    ),
    check(
      "per-user limit",
      c.maxPerUser <= c.perUserLimit,
      `most by one user ${c.maxPerUser}, limit ${c.perUserLimit}`,
    ),
    check(
      "every 202 confirmed",
      unknown.length === 0,
      `${accepted.length} accepted: ${accepted.length - missing.length} confirmed, ` +
        `${missing.length - unknown.length} failed with a reason, ${unknown.length} unknown`,
    ),
    check(
      "no order without a 202",
      stray <= (opts.unanswered ?? 0),
      `${stray} orders the client got no 202 for (requests left without an answer: ${opts.unanswered ?? 0})`,
    ),
    check(
      "reconciliation drift zero",
      recon.drift === 0 && recon.pending === 0 && recon.mysqlConsistent === true,
      `drift ${recon.drift}, pending ${recon.pending}, mysqlConsistent ${recon.mysqlConsistent}`,
    ),
    check("queues drained", ready === 0, `orders queue: ${ready} ready (after up to 30 s)`),
  ];
}

async function purchaseState(t: LoadTarget, saleId: number, a: AcceptedPurchase) {
  return apiCall<{ status: string; reason?: string }>(t, "GET", `/flash-sales/${saleId}/purchases/${a.requestId}`, {
    token: a.token,
    expect: 200,
  }).catch((err: Error) => ({ status: `unknown (${err.message})`, reason: undefined }));
}

/** Ready messages in a queue, counted by the broker. */
export async function queueReady(t: LoadTarget, queue: string): Promise<number> {
  const counts = await brokerCounts(amqpUrl(t, "admin"), [queue]);
  return counts.get(queue)!.messageCount;
}

/** The share a grab answer tells its client: 200's amount, or a 409 already_grabbed's (an earlier attempt won it). */
export function grabbedShare(status: number, body: string): number | null {
  if (status !== 200 && status !== 409) return null;
  const parsed = JSON.parse(body) as { amountCents?: number; error?: string; details?: { amountCents?: number } };
  if (status === 200) return Number(parsed.amountCents);
  return parsed.error === "already_grabbed" && parsed.details?.amountCents !== undefined
    ? Number(parsed.details.amountCents)
    : null;
}

/** Wait until no admitted grab of `packetIds` waits in Redis (queue and processing lists empty); returns the ms. */
export async function waitGrabs(t: LoadTarget, packetIds: number[], timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  const redis = appRedis(t);
  try {
    await eventually(
      async () => {
        for (const id of packetIds) {
          const k = packetKeys(id);
          if ((await redis.llen(k.queue)) + (await redis.llen(k.processing)) > 0) return undefined;
        }
        return true;
      },
      timeoutMs,
      25,
    ).catch(() => undefined); // the invariants say what is missing
  } finally {
    redis.disconnect();
  }
  return Date.now() - started;
}

/** One packet's row and grabs, read in one snapshot (a worker may commit between two plain reads). */
async function packetSnapshot(t: LoadTarget, id: number) {
  return onPrimary(t, async (conn) => {
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    const [[packet]] = await conn.query<RowDataPacket[]>(
      "SELECT amount_cents, count, remaining_count, remaining_cents FROM red_packets WHERE id = ?",
      [id],
    );
    const [grabs] = await conn.query<RowDataPacket[]>(
      "SELECT user_id, amount_cents FROM red_packet_grabs WHERE packet_id = ?",
      [id],
    );
    await conn.query("COMMIT");
    if (!packet) throw new Error(`no red packet #${id}`);
    return { packet, grabs };
  });
}

/**
 * The red-packet invariants: parts and cents add up exactly, every grab a client was told about is
 * persisted with the amount it was told, no grab nobody was told about, nobody twice; with
 * `allParts` (more grabbers than parts), every part was grabbed — a failover lost none.
 */
export async function packetInvariants(
  t: LoadTarget,
  packetIds: number[],
  accepted: Array<Map<number, number>>,
  opts: { allParts?: boolean; unanswered?: number } = {},
): Promise<InvariantCheck[]> {
  let sumsExact = true;
  let allGrabbed = true;
  let persisted = 0;
  let lost = 0;
  let wrongAmount = 0;
  let stray = 0;
  const sums: string[] = [];
  for (const [i, id] of packetIds.entries()) {
    const { packet, grabs } = await packetSnapshot(t, id);
    const told = accepted[i];
    if (!told)
      throw new Error(
        `packet #${id} has no list of the grabs told (${accepted.length} lists for ${packetIds.length} packets)`,
      );
    const byUser = new Map(grabs.map((g) => [Number(g.user_id), Number(g.amount_cents)]));
    const cents = grabs.reduce((s, g) => s + Number(g.amount_cents), 0);
    sumsExact &&=
      cents + Number(packet.remaining_cents) === Number(packet.amount_cents) &&
      grabs.length + Number(packet.remaining_count) === Number(packet.count) &&
      byUser.size === grabs.length;
    allGrabbed &&= Number(packet.remaining_count) === 0;
    sums.push(`#${id}: ${grabs.length} grabs, ${cents}+${packet.remaining_cents} of ${packet.amount_cents} cents`);
    for (const [userId, amountCents] of told) {
      const got = byUser.get(userId);
      if (got === undefined) lost++;
      else if (got !== amountCents) wrongAmount++;
      else persisted++;
    }
    stray += [...byUser.keys()].filter((u) => !told.has(u)).length;
  }
  const checks = [
    check("sums exact", sumsExact, sums.slice(0, 4).join("; ") + (sums.length > 4 ? `; … ${sums.length} packets` : "")),
    check(
      "every grab told persisted",
      lost === 0 && wrongAmount === 0,
      `${persisted} persisted with the amount told, ${lost} missing, ${wrongAmount} with another amount`,
    ),
    check(
      "no grab nobody was told",
      stray <= (opts.unanswered ?? 0),
      `${stray} grabs no client was told about (requests left without an answer: ${opts.unanswered ?? 0})`,
    ),
  ];
  if (opts.allParts) checks.push(check("every part grabbed", allGrabbed, sums.join("; ")));
  return checks;
}

/**
 * Money conserved (the same check as the workers' periodic job and LedgerImbalance): top-ups equal
 * balances plus what unrefunded red packets hold, and every balance is the sum of its ledger rows.
 */
export async function moneyConserved(t: LoadTarget): Promise<InvariantCheck> {
  const c = await onPrimary(t, async (conn) => {
    await conn.beginTransaction();
    try {
      return await readConservation(conn);
    } finally {
      await conn.commit();
    }
  });
  return check(
    "money conserved",
    c.imbalanceCents === 0 && c.accountsMismatched === 0,
    `top-ups ${c.mintedCents} = balances ${c.balancesCents} + in packets ${c.heldCents} ` +
      `(off by ${c.imbalanceCents}); ${c.accountsMismatched} balances differ from their ledger`,
  );
}
