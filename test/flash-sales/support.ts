import { randomUUID } from "node:crypto";
import type { ResultSetHeader } from "mysql2";
import { readState } from "../../infra/targets/local/state";
import { adminToken, call, replicaBase, type Answer } from "../support/api";
import { onPrimary } from "../support/db";
import { eventually } from "../stack/clients";
import { testAddresses, testLayout } from "../stack/test-stack";
import { insertUsers, type DirectUser } from "../support/users";
import { first, zip, type Counted } from "../support/checked";
import { bounded } from "../../scripts/load/bounded";
import { appRedis, localLoadTarget } from "../../scripts/load/target";

export { bounded };

/** A user inserted straight into MySQL with a token signed by the stack's real key (no scrypt cost). */
export type Buyer = DirectUser;

/** Insert `n` users in one statement and mint their tokens. */
export function buildBuyers<N extends number>(n: N): Promise<Counted<Buyer, N>> {
  return insertUsers(n, "fs");
}

/** Create a sale as the administrator; defaults: open now for an hour. */
export async function buildSale(overrides: Record<string, unknown> = {}): Promise<number> {
  const res = await call<{ id: number }>("POST", "/admin/flash-sales", {
    token: await adminToken(),
    body: {
      name: "Flash test",
      priceCents: 990,
      stock: 10,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      ...overrides,
    },
  });
  if (res.status !== 201) throw new Error(`create sale failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** One purchase straight to a replica (i % replicas) with its own client address, so per-IP limits do not bite. */
export function purchase(
  saleId: number,
  buyer: Buyer,
  key: string = randomUUID(),
  i = 0,
): Promise<Answer<{ requestId?: string; status?: string; error?: string }>> {
  const replicas = testAddresses().api.length;
  return call("POST", `/flash-sales/${saleId}/purchases`, {
    token: buyer.token,
    headers: { "idempotency-key": key, "x-forwarded-for": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    base: replicaBase(i % replicas),
  });
}

/** Poll every request until none is queued; returns the final states. */
export async function awaitOutcomes(
  saleId: number,
  accepted: Array<{ buyer: Buyer; requestId: string }>,
  timeoutMs = 40_000,
): Promise<Array<{ status: string; orderId?: number; reason?: string }>> {
  const states = new Map<string, { status: string; orderId?: number; reason?: string }>();
  await eventually(
    async () => {
      const open = accepted.filter((a) => states.get(a.requestId)?.status !== "confirmed");
      const answers = await bounded(
        open.map((a, i) => () => {
          const path = `/flash-sales/${saleId}/purchases/${a.requestId}`;
          return call<{ status: string }>("GET", path, { token: a.buyer.token, base: replicaBase(i % 2) });
        }),
        50,
      );
      // A rate-limited poll (429) says nothing about the request: ask again next round.
      for (const [a, answer] of zip(open, answers)) if (answer.status === 200) states.set(a.requestId, answer.body);
      if (accepted.some((a) => !states.has(a.requestId))) return undefined;
      return accepted.every((a) => states.get(a.requestId)?.status !== "queued") ? true : undefined;
    },
    timeoutMs,
    500,
  );
  return accepted.map((a) => states.get(a.requestId)!);
}

/** Poll one request until it is no longer queued; its final state. */
export async function awaitOutcome(
  saleId: number,
  request: { buyer: Buyer; requestId: string },
  timeoutMs?: number,
): Promise<{ status: string; orderId?: number; reason?: string }> {
  return first(await awaitOutcomes(saleId, [request], timeoutMs), "the request's final state");
}

/** The admin reconciliation report of a sale. */
export async function reconciliation(saleId: number) {
  const res = await call<Record<string, number | boolean>>("GET", `/admin/flash-sales/${saleId}/reconciliation`, {
    token: await adminToken(),
  });
  if (res.status !== 200) throw new Error(`reconciliation: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** MySQL's view: orders, the most any user has, and remaining. */
export async function mysqlView(saleId: number) {
  return onPrimary(async (conn) => {
    const [countRows] = await conn.query<Array<{ orders: number } & ResultSetHeader>>(
      "SELECT COUNT(*) AS orders FROM orders WHERE flash_sale_id = ?",
      [saleId],
    );
    const [perUser] = await conn.query<Array<{ n: number } & ResultSetHeader>>(
      "SELECT COUNT(*) AS n FROM orders WHERE flash_sale_id = ? GROUP BY user_id ORDER BY n DESC LIMIT 1",
      [saleId],
    );
    const [saleRows] = await conn.query<Array<{ remaining: number } & ResultSetHeader>>(
      "SELECT remaining FROM flash_sales WHERE id = ?",
      [saleId],
    );
    return {
      orders: Number(first(countRows, "the order count").orders),
      maxPerUser: Number(perUser[0]?.n ?? 0),
      remaining: Number(first(saleRows, `flash sale ${saleId}`).remaining),
    };
  });
}

/** The pid of a test-stack process by name (from the stack's state file). */
export const stackPid = (name: string) =>
  readState(testLayout().stateFile)!.processes.find((p) => p.name === name)!.pid;

/** Wait until a reconciliation run finds nothing to repair: zero drift, nothing pending, MySQL consistent. */
export function settledReconciliation(saleId: number, timeoutMs = 30_000) {
  return eventually(
    async () => {
      const r = await reconciliation(saleId).catch(() => undefined);
      return r && r.drift === 0 && r.pending === 0 && r.mysqlConsistent === true ? r : undefined;
    },
    timeoutMs,
    1000,
  );
}

/** The purchases of a storm that were accepted (202), with their buyers; `answers[i]` is buyer i's answer. */
export function acceptedOf(buyers: Buyer[], answers: Array<Answer<{ requestId?: string }>>) {
  return zip(buyers, answers).flatMap(([buyer, answer]) =>
    answer.status === 202 ? [{ buyer, requestId: answer.body.requestId! }] : [],
  );
}

/** An ioredis Cluster client on the test stack, as the app user (disconnect it after use). */
export const stackRedis = () => appRedis(localLoadTarget(testLayout().root));

/** The request ids of a sale's orders in MySQL, with how many orders each has. */
export async function orderRequestIds(saleId: number): Promise<Map<string, number>> {
  return onPrimary(async (conn) => {
    const [rows] = await conn.query<Array<{ rid: string; n: number } & ResultSetHeader>>(
      "SELECT request_id AS rid, COUNT(*) AS n FROM orders WHERE flash_sale_id = ? GROUP BY request_id",
      [saleId],
    );
    return new Map(rows.map((r) => [String(r.rid), Number(r.n)]));
  });
}
