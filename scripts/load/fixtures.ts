import { randomBytes, randomUUID } from "node:crypto";
import type { ResultSetHeader } from "mysql2";
import { parsePacketRef } from "../../services/src/modules/red-packets/packet-ref";
import { Tokens } from "../../services/src/platform/tokens";
import { entryUrl, onPrimary, type LoadTarget } from "./target";

/** A user inserted straight into MySQL, with a token signed by the stack's real key. */
export interface LoadUser {
  id: number;
  token: string;
}

/**
 * Insert `n` users in one statement and mint their tokens: storms need thousands of users, and
 * signing up through the API would cost a scrypt hash each. The API verifies the tokens for real.
 */
export async function insertUsers(t: LoadTarget, n: number, prefix = "load"): Promise<LoadUser[]> {
  const tag = `${prefix}_${randomBytes(4).toString("hex")}`;
  const ids: number[] = [];
  // One multi-row INSERT gets consecutive ids; chunks keep each statement under max_allowed_packet.
  for (let from = 0; from < n; from += 5000) {
    const rows = Array.from({ length: Math.min(5000, n - from) }, (_, i) => [`${tag}_${from + i}`, "not-a-real-hash"]);
    const first = await onPrimary(t, async (conn) => {
      const [result] = await conn.query<ResultSetHeader>("INSERT INTO users (username, password_hash) VALUES ?", [
        rows,
      ]);
      // Sign-up gives every user a profile row; the profile scenarios read it.
      const profiles = rows.map(([name], i) => [result.insertId + i, name]);
      await conn.query("INSERT INTO profiles (user_id, display_name) VALUES ?", [profiles]);
      return result.insertId;
    });
    ids.push(...rows.map((_, i) => first + i));
  }
  const tokens = new Tokens(t.topology.api.jwtSecret, t.topology.api.tokenTtlSeconds);
  return Promise.all(ids.map(async (id) => ({ id, token: (await tokens.issue({ userId: id, role: "user" })).token })));
}

/** Call the API through nginx as `token`; JSON in, JSON out. Throws unless the status is `expect`. */
export async function apiCall<T>(
  t: LoadTarget,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; expect: number },
): Promise<T> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${entryUrl(t)}/api/v1${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(30_000),
  }).catch((err: Error) => {
    const cause = (err.cause as Error | undefined)?.message;
    throw new Error(`${method} ${path}: ${err.message}${cause ? ` (${cause})` : ""}`);
  });
  const text = await res.text();
  if (res.status !== opts.expect) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** A token for the administrator the stack seeds. */
export async function adminToken(t: LoadTarget): Promise<string> {
  const { username, password } = t.topology.api.admin;
  return (await apiCall<{ token: string }>(t, "POST", "/sessions", { body: { username, password }, expect: 200 }))
    .token;
}

/** Create a flash sale open now for an hour; returns its id. */
export async function createSale(t: LoadTarget, s: { stock: number; perUserLimit: number; name?: string }) {
  const body = {
    name: s.name ?? "Load sale",
    priceCents: 990,
    stock: s.stock,
    perUserLimit: s.perUserLimit,
    startsAt: new Date(Date.now() - 1000).toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
  };
  const token = await adminToken(t);
  return (await apiCall<{ id: number }>(t, "POST", "/admin/flash-sales", { token, body, expect: 201 })).id;
}

/**
 * End a sale now (its window closes a few seconds back): the storm is over, and a sale left running
 * would be reconciled every 2 s — two full scans — under the next scenario's load.
 */
export async function endSale(t: LoadTarget, saleId: number): Promise<void> {
  await onPrimary(t, (conn) =>
    conn.query(
      "UPDATE flash_sales SET ends_at = GREATEST(starts_at + INTERVAL 1 SECOND, NOW(3) - INTERVAL 10 SECOND) WHERE id = ?",
      [saleId],
    ),
  );
}

/** Credit `user` through the admin top-up route (a ledger row, like any money that enters). */
export async function topUp(t: LoadTarget, userId: number, amountCents: number): Promise<number> {
  const credited = await apiCall<{ balanceCents: number }>(t, "POST", `/admin/users/${userId}/credits`, {
    token: await adminToken(t),
    headers: { "idempotency-key": randomUUID() },
    body: { amountCents },
    expect: 201,
  });
  return credited.balanceCents;
}

/** A red packet as the API names it ("<id>.<token>") and its numeric id (for SQL and Redis keys). */
export interface CreatedPacket {
  id: number;
  ref: string;
}

/** Fund `creator` with the amount, then create a red packet of `count` parts as them. */
export async function createPacket(
  t: LoadTarget,
  creator: LoadUser,
  count: number,
  amountCents = count * 100,
): Promise<CreatedPacket> {
  await topUp(t, creator.id, amountCents);
  const body = { amountCents, count, expiresInSeconds: 3600 };
  const headers = { "idempotency-key": randomUUID() };
  const { id: ref } = await apiCall<{ id: string }>(t, "POST", "/red-packets", {
    token: creator.token,
    headers,
    body,
    expect: 201,
  });
  return { id: parsePacketRef(ref)!.id, ref };
}
