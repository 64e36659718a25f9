import { randomBytes } from "node:crypto";
import type { ResultSetHeader } from "mysql2";
import { testTopology } from "../stack/test-stack";
import { onPrimary } from "./db";
import { claimsFor, forgeToken } from "./tokens";

/** A user inserted straight into MySQL, with a token signed by the stack's real key. */
export interface DirectUser {
  id: number;
  token: string;
}

/**
 * Insert `n` users in one statement and mint their tokens: storms need hundreds of users, and
 * signing up through the API would cost a scrypt hash each. The API verifies the tokens for real.
 */
export async function insertUsers(n: number, prefix = "direct"): Promise<DirectUser[]> {
  const tag = `${prefix}_${randomBytes(4).toString("hex")}`;
  const firstId = await onPrimary(async (conn) => {
    const rows = Array.from({ length: n }, (_, i) => [`${tag}_${i}`, "not-a-real-hash"]);
    const [result] = await conn.query<ResultSetHeader>("INSERT INTO users (username, password_hash) VALUES ?", [rows]);
    return result.insertId;
  });
  // One multi-row INSERT gets consecutive ids (a simple insert's auto-increment ids are contiguous).
  const secret = testTopology().api.jwtSecret;
  return Array.from({ length: n }, (_, i) => ({ id: firstId + i, token: forgeToken(claimsFor(firstId + i), secret) }));
}
