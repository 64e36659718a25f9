import { z } from "zod";

/** Path of GET /users/:id/profile: a positive decimal id that fits a JS number exactly. */
export const ProfileParamsSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, { error: "a positive integer id" })
    .transform(Number)
    .refine(Number.isSafeInteger, { error: "id out of range" }),
});
/** GET /users/:id/profile path type. */
export type ProfileParams = z.infer<typeof ProfileParamsSchema>;

/**
 * PATCH /me body. Strict: id, role and balance are not the client's to set (no mass assignment),
 * and the target is always the token's user, never an id from the body.
 */
export const UpdateProfileSchema = z
  .strictObject({
    displayName: z.string().trim().min(1).max(64),
    bio: z.string().max(500),
    email: z.email().max(254).nullable(),
    // E.164: "+", country code, subscriber number; null clears it.
    phone: z
      .string()
      .regex(/^\+[1-9][0-9]{6,14}$/, { error: "an E.164 number such as +4915112345678" })
      .nullable(),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, { error: "send at least one field" });
/** PATCH /me body type. */
export type UpdateProfileReq = z.infer<typeof UpdateProfileSchema>;

/** What anyone may see about a user. */
export const PublicProfileSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  bio: z.string(),
});
/** The public view type. */
export type PublicProfile = z.infer<typeof PublicProfileSchema>;

/** What only the user themself sees (GET/PATCH /me). */
export const PrivateProfileSchema = PublicProfileSchema.extend({
  role: z.enum(["user", "admin"]),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  balanceCents: z.number().int(),
  updatedAt: z.iso.datetime(),
});
/** The private view type. */
export type PrivateProfile = z.infer<typeof PrivateProfileSchema>;
