import { z } from "zod";

/** Usernames: lower-case letters, digits and underscores, 3–32 characters. */
export const UsernameSchema = z.string().regex(/^[a-z0-9_]{3,32}$/, { error: "3-32 characters of a-z, 0-9 and _" });
const PasswordSchema = z.string().min(10, { error: "at least 10 characters" }).max(128);

/** POST /users body. Strict: no mass assignment of role or balance. */
export const CreateUserSchema = z.strictObject({ username: UsernameSchema, password: PasswordSchema });
/** POST /users body type. */
export type CreateUserReq = z.infer<typeof CreateUserSchema>;

/** POST /sessions body. */
export const CreateSessionSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(128),
});
/** POST /sessions body type. */
export type CreateSessionReq = z.infer<typeof CreateSessionSchema>;

/** A created user as the API shows it. */
export const UserSchema = z.object({ id: z.number().int(), username: z.string(), role: z.enum(["user", "admin"]) });
/** An issued access token. */
export const SessionSchema = z.object({
  token: z.string(),
  tokenType: z.literal("Bearer"),
  expiresIn: z.number().int(),
});
