import { z } from "zod";

/** POST /red-packets body. Strict: the creator is the caller, never a field. */
export const CreateRedPacketSchema = z
  .strictObject({
    amountCents: z.number().int().min(1).max(100_000_000),
    count: z.number().int().min(1).max(10_000),
    expiresInSeconds: z.number().int().min(10).max(86_400),
  })
  .refine((b) => b.amountCents >= b.count, { error: "amountCents must be at least count (1 cent per part)" });
/** POST /red-packets body type. */
export type CreateRedPacketReq = z.infer<typeof CreateRedPacketSchema>;

/** `:id` path parameter: a positive decimal integer (no signs, exponents or leading zeros). */
export const RedPacketIdParamsSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, { error: "a positive integer id" })
    .transform(Number),
});
/** `:id` path parameter type. */
export type RedPacketIdParams = z.infer<typeof RedPacketIdParamsSchema>;

/** A created packet. */
export const CreatedRedPacketSchema = z.object({ id: z.number().int() });

/** A successful grab: the caller's share. */
export const GrabSchema = z.object({ amountCents: z.number().int() });

/** A packet as MySQL has it: grabs persisted so far (admitted grabs land within milliseconds). */
export const RedPacketViewSchema = z.object({
  amountCents: z.number().int(),
  count: z.number().int(),
  remainingCount: z.number().int(),
  remainingCents: z.number().int(),
  expiresAt: z.string().describe("ISO 8601"),
  refunded: z.boolean().describe("the unclaimed remainder went back to the creator"),
  grabs: z.array(z.object({ userId: z.number().int(), amountCents: z.number().int() })),
});
/** A packet as the API shows it. */
export type RedPacketView = z.infer<typeof RedPacketViewSchema>;
