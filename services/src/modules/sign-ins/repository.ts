import type { Database, Tx } from "../../platform/db";

/** One sign-in day, the day as "YYYY-MM-DD". */
export interface SignInRow {
  day: string;
  streak: number;
}

/** How many days of history a user's cached list holds (the API's largest limit). */
export const HISTORY_DAYS = 100;

/** The user's streak on `day` ("YYYY-MM-DD") inside a transaction; null when they did not sign in that day. */
export async function streakOn(tx: Tx, userId: number, day: string): Promise<number | null> {
  const [rows] = await tx.execute("SELECT streak FROM sign_ins WHERE user_id = ? AND day = ?", [userId, day]);
  return (rows as Array<{ streak: number }>)[0]?.streak ?? null;
}

/**
 * Insert the user's row for `day`. A plain INSERT, not INSERT IGNORE: a duplicate fails with
 * ER_DUP_ENTRY (the primary key is the guard against a second sign-in) and a missing user with
 * ER_NO_REFERENCED_ROW_2, instead of both being silenced as warnings.
 */
export async function insertSignIn(tx: Tx, userId: number, day: string, streak: number): Promise<void> {
  await tx.execute("INSERT INTO sign_ins (user_id, day, streak) VALUES (?, ?, ?)", [userId, day, streak]);
}

/** The user's streak on `day`, read on the primary (right after losing an insert race it must be there). */
export async function committedStreakOn(db: Database, userId: number, day: string): Promise<number | null> {
  const rows = await db.readPrimary<{ streak: number }>("SELECT streak FROM sign_ins WHERE user_id = ? AND day = ?", [
    userId,
    day,
  ]);
  return rows[0]?.streak ?? null;
}

/** The user's newest HISTORY_DAYS sign-ins, newest first, read-your-writes for that user. */
export async function recentSignIns(db: Database, userId: number): Promise<SignInRow[]> {
  // DATE_FORMAT: a DATE is a calendar day, not an instant; mysql2 would turn it into a local-midnight Date.
  return db.read<SignInRow>(
    `SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, streak FROM sign_ins
      WHERE user_id = ? ORDER BY day DESC LIMIT ${HISTORY_DAYS}`,
    [userId],
    `user:${userId}`,
  );
}
