import { NotFoundError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { readBalance } from "../ledger/repository";
import { findProfile, updateProfile, type ProfileRow } from "./repository";
import type { PrivateProfile, PublicProfile, UpdateProfileReq } from "./schema";

/** The "profile" cache's value: the row, with the timestamp as ISO text so it survives JSON in Redis. */
export type CachedProfile = Omit<ProfileRow, "updated_at"> & { updated_at: string };

const profiles = (p: Platform) => p.caches.cache<CachedProfile>("profile");

/** One user's profile through L1 → Redis → MySQL; null when the user does not exist (negative-cached). */
export async function loadProfile(p: Platform, userId: number): Promise<CachedProfile | null> {
  return profiles(p).get(userId, async () => {
    const row = await findProfile(p.db, userId);
    return row && { ...row, updated_at: row.updated_at.toISOString() };
  });
}

const publicView = (row: CachedProfile): PublicProfile => ({
  id: row.id,
  username: row.username,
  displayName: row.display_name,
  bio: row.bio,
});

const privateView = (row: CachedProfile, balanceCents: number): PrivateProfile => ({
  ...publicView(row),
  role: row.role,
  email: row.email,
  phone: row.phone,
  balanceCents,
  updatedAt: row.updated_at,
});

/**
 * The caller's own profile; 404 when the token's user no longer exists. The profile comes from the
 * cache; the balance never does — it changes without the profile (top-ups, packets, grab credits by
 * workers), so it is read each time, read-your-writes for the user.
 */
export async function getOwnProfile(p: Platform, userId: number): Promise<PrivateProfile> {
  const [row, balanceCents] = await Promise.all([loadProfile(p, userId), readBalance(p.db, userId)]);
  if (!row || balanceCents === null) throw NotFoundError("no such user");
  return privateView(row, balanceCents);
}

/** Anyone's public profile; counts the view for the behaviour statistics. */
export async function getPublicProfile(p: Platform, userId: number): Promise<PublicProfile> {
  const row = await loadProfile(p, userId);
  if (!row) throw NotFoundError("no such user");
  p.tracking.track("view", `user:${userId}`, null);
  return publicView(row);
}

/** Change the caller's own profile, then drop every cached copy so every replica shows the change at once. */
export async function updateOwnProfile(p: Platform, userId: number, req: UpdateProfileReq): Promise<PrivateProfile> {
  const found = await updateProfile(p.db, userId, {
    display_name: req.displayName,
    bio: req.bio,
    email: req.email,
    phone: req.phone,
  });
  if (!found) throw NotFoundError("no such user");
  await profiles(p).invalidate(userId);
  return getOwnProfile(p, userId);
}
