import { z } from "zod";
import { PositiveIdParam } from "../../platform/validate";

/** POST /admin/users/:id/credits body: a positive amount, at most a million currency units at once. */
export const TopUpSchema = z.strictObject({ amountCents: z.number().int().min(1).max(100_000_000) });
/** POST /admin/users/:id/credits body type. */
export type TopUpReq = z.infer<typeof TopUpSchema>;

/** `:id` path parameter of a user: a positive decimal integer. */
export const UserIdParamsSchema = z.object({ id: PositiveIdParam });

/** The user's balance after a top-up. */
export const BalanceSchema = z.object({ balanceCents: z.number().int() });

/** Money conservation as one consistent snapshot of the database sees it. */
export const ConservationSchema = z.object({
  balancesCents: z.number().int().describe("sum of every user's balance"),
  heldCents: z.number().int().describe("money in red packets not yet refunded (grabbable or in flight)"),
  mintedCents: z.number().int().describe("sum of top-ups and opening balances"),
  imbalanceCents: z.number().int().describe("minted − balances − held: zero when no money was made or lost"),
  accountsMismatched: z.number().int().describe("users whose balance differs from the sum of their ledger rows"),
});
/** A conservation check's result. */
export type Conservation = z.infer<typeof ConservationSchema>;
