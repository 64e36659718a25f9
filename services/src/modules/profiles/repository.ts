import type { ResultSetHeader } from "mysql2";
import type { Database } from "../../platform/db";

/** A user with their profile (users JOIN profiles), as MySQL returns it. */
export interface ProfileRow {
  id: number;
  username: string;
  role: "user" | "admin";
  display_name: string;
  bio: string;
  email: string | null;
  phone: string | null;
  updated_at: Date;
}

/** The profile columns a user may change, by column name. */
export interface ProfileChanges {
  display_name?: string;
  bio?: string;
  email?: string | null;
  phone?: string | null;
}

// The only columns an UPDATE may name: keys of ProfileChanges are checked against this list, so a
// stray property can never become SQL.
const CHANGEABLE = ["display_name", "bio", "email", "phone"] as const;

/** One user's row, read-your-writes for that user (replica once it has their last write, else primary). */
export async function findProfile(db: Database, userId: number): Promise<ProfileRow | null> {
  const rows = await db.read<ProfileRow>(
    `SELECT u.id, u.username, u.role, p.display_name, p.bio, p.email, p.phone, p.updated_at
       FROM users u JOIN profiles p ON p.user_id = u.id
      WHERE u.id = ?`,
    [userId],
    `user:${userId}`,
  );
  return rows[0] ?? null;
}

/** Apply `changes` to the user's profile on the primary; false when the user has no profile. */
export async function updateProfile(db: Database, userId: number, changes: ProfileChanges): Promise<boolean> {
  const columns = CHANGEABLE.filter((c) => changes[c] !== undefined);
  if (columns.length === 0) throw new Error("updateProfile needs at least one change");
  const result = await db.write<ResultSetHeader>(
    `user:${userId}`,
    `UPDATE profiles SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE user_id = ?`,
    [...columns.map((c) => changes[c] ?? null), userId],
  );
  // mysql2 connects with FOUND_ROWS, so an update that changes nothing still counts its row.
  return result.affectedRows > 0;
}
