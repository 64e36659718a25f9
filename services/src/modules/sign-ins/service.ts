import { NotFoundError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { committedStreakOn, insertSignIn, recentSignIns, streakOn, type SignInRow } from "./repository";
import type { SignInHistory, SignInResult } from "./schema";

const DAY_MS = 86_400_000;

/**
 * The UTC calendar day of `at`, "YYYY-MM-DD". Sign-in days are UTC calendar days, computed here and
 * passed to SQL as text, so "today" is the same on every replica whatever its local time zone.
 */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

const history = (p: Platform) => p.caches.cache<SignInRow[]>("sign-ins");
const errorCode = (err: unknown) => (err as { code?: string }).code;

/**
 * Sign in for today (UTC). The first call a day inserts the row — streak = yesterday's + 1, else 1 —
 * in one primary transaction; the primary key (user_id, day) makes concurrent calls race-free: the
 * losers fail with a duplicate key and answer with the winner's row.
 */
export async function signIn(p: Platform, userId: number, now = new Date()): Promise<SignInResult> {
  const day = utcDay(now);
  const yesterday = utcDay(new Date(now.getTime() - DAY_MS));
  try {
    const streak = await p.db.transaction(`user:${userId}`, async (tx) => {
      const streak = ((await streakOn(tx, userId, yesterday)) ?? 0) + 1;
      await insertSignIn(tx, userId, day, streak);
      return streak;
    });
    await history(p).invalidate(userId);
    p.tracking.track("sign_in", "daily", userId);
    return { day, streak, alreadySignedIn: false };
  } catch (err) {
    if (errorCode(err) === "ER_NO_REFERENCED_ROW_2") throw NotFoundError("no such user");
    if (errorCode(err) !== "ER_DUP_ENTRY") throw err;
  }
  // A repeat writes nothing, so it is not a scoped transaction: recording a write that did not happen
  // would overwrite the user's read-your-writes GTID with whatever the pooled connection last wrote.
  const streak = await committedStreakOn(p.db, userId, day);
  if (streak === null) throw new Error(`sign-in of user ${userId} on ${day} vanished after a duplicate key`);
  return { day, streak, alreadySignedIn: true };
}

/** The user's newest `limit` sign-ins and their current streak (today's, else yesterday's, else 0). */
export async function signInHistory(
  p: Platform,
  userId: number,
  limit: number,
  now = new Date(),
): Promise<SignInHistory> {
  const rows = (await history(p).get(userId, () => recentSignIns(p.db, userId))) ?? [];
  // Computed per request, not cached: the cached rows stay right across midnight, a cached streak would not.
  const today = utcDay(now);
  const yesterday = utcDay(new Date(now.getTime() - DAY_MS));
  const current = rows.find((r) => r.day === today) ?? rows.find((r) => r.day === yesterday);
  return { currentStreak: current?.streak ?? 0, items: rows.slice(0, limit) };
}
