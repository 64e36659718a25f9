import { ConflictError, UnauthorizedError } from "../../platform/errors";
import { hashPassword, verifyAgainstDummy, verifyPassword } from "../../platform/passwords";
import type { Platform } from "../../platform/platform";
import { findByUsername, insertUser } from "./repository";
import type { CreateSessionReq, CreateUserReq } from "./schema";

const isDuplicate = (err: unknown) => (err as { code?: string }).code === "ER_DUP_ENTRY";

/** Sign up: hash the password, create the user and their profile in one transaction. */
export async function registerUser(p: Platform, req: CreateUserReq) {
  const hash = await hashPassword(req.password);
  try {
    const id = await p.db.transaction(null, (tx) => insertUser(tx, req.username, hash));
    return { id, username: req.username, role: "user" as const };
  } catch (err) {
    if (isDuplicate(err)) throw ConflictError("username_taken", "that username is taken");
    throw err;
  }
}

/** Log in: the same answer and the same time for an unknown user and a wrong password. */
export async function createSession(p: Platform, req: CreateSessionReq) {
  const user = await findByUsername(p.db, req.username);
  const ok = user ? await verifyPassword(req.password, user.password_hash) : await verifyAgainstDummy(req.password);
  if (!user || !ok) throw UnauthorizedError("invalid_credentials", "wrong username or password");
  const { token, expiresIn } = await p.tokens.issue({ userId: user.id, role: user.role });
  return { token, tokenType: "Bearer" as const, expiresIn };
}
