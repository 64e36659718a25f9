import type { ResultSetHeader } from "mysql2";
import type { Database, Tx } from "../../platform/db";

/** A users row as the accounts feature needs it. */
export interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  role: "user" | "admin";
}

/** Insert a user and their empty profile; returns the new id. Throws ER_DUP_ENTRY for a taken name. */
export async function insertUser(tx: Tx, username: string, passwordHash: string): Promise<number> {
  const [result] = await tx.execute<ResultSetHeader>("INSERT INTO users (username, password_hash) VALUES (?, ?)", [
    username,
    passwordHash,
  ]);
  await tx.execute("INSERT INTO profiles (user_id, display_name) VALUES (?, ?)", [result.insertId, username]);
  return result.insertId;
}

/** Find a user by name on the primary: a login right after sign-up must see the new row. */
export async function findByUsername(db: Database, username: string): Promise<UserRow | null> {
  const rows = await db.readPrimary<UserRow>("SELECT id, username, password_hash, role FROM users WHERE username = ?", [
    username,
  ]);
  return rows[0] ?? null;
}
