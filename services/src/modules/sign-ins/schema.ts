import { z } from "zod";

/** GET /sign-ins query: how many days of history, newest first (1–100, default 30). */
export const SignInHistoryQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, { error: "an integer from 1 to 100" })
    .transform(Number)
    .pipe(z.number().int().min(1).max(100))
    .optional()
    .default(30)
    .describe("days of history, 1-100, default 30"),
});
/** GET /sign-ins query type. */
export type SignInHistoryQuery = z.infer<typeof SignInHistoryQuerySchema>;

/** A UTC calendar day, "YYYY-MM-DD". */
const DaySchema = z.iso.date();

/** The answer to POST /sign-ins (201 the first time a day, 200 for a repeat). */
export const SignInResultSchema = z.object({
  day: DaySchema,
  streak: z.number().int().min(1),
  alreadySignedIn: z.boolean(),
});
/** POST /sign-ins answer type. */
export type SignInResult = z.infer<typeof SignInResultSchema>;

/** One day of a user's sign-in history. */
export const SignInDaySchema = z.object({ day: DaySchema, streak: z.number().int().min(1) });

/** The answer to GET /sign-ins. */
export const SignInHistorySchema = z.object({
  currentStreak: z.number().int().min(0).describe("today's streak, else yesterday's, else 0"),
  items: z.array(SignInDaySchema),
});
/** GET /sign-ins answer type. */
export type SignInHistory = z.infer<typeof SignInHistorySchema>;
