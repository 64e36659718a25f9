import { z } from "zod";
import { parsePacketRef, type PacketRef } from "./packet-ref";

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

/** `:id` path parameter: "<id>.<token>" as the create answered it. */
export const RedPacketIdParamsSchema = z.object({
  id: z.string().transform((raw, ctx): PacketRef => {
    const ref = parsePacketRef(raw);
    if (!ref) {
      ctx.addIssue({ code: "custom", input: raw, message: "a red packet id as created: <number>.<token>" });
      return z.NEVER;
    }
    return ref;
  }),
});
/** `:id` path parameter type. */
export type RedPacketIdParams = z.infer<typeof RedPacketIdParamsSchema>;

/** A created packet: the id to share with grabbers (it carries a 128-bit token: ids cannot be walked). */
export const CreatedRedPacketSchema = z.object({ id: z.string().describe("<number>.<token>") });

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
  grabs: z
    .array(z.object({ userId: z.number().int(), amountCents: z.number().int() }))
    .optional()
    .describe("shown to the creator and to those who grabbed; omitted for anyone else"),
});
/** A packet as the API shows it. */
export type RedPacketView = z.infer<typeof RedPacketViewSchema>;
