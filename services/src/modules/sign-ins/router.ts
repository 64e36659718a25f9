import { principal } from "../../platform/auth";
import type { ApiRouter } from "../../platform/api-router";
import type { Platform } from "../../platform/platform";
import { SignInHistoryQuerySchema, SignInHistorySchema, SignInResultSchema } from "./schema";
import { signIn, signInHistory } from "./service";

/** Daily sign-in and its history; days are UTC calendar days. */
export function signInsRoutes(api: ApiRouter, p: Platform): void {
  api.route(
    {
      method: "post",
      path: "/sign-ins",
      summary: "Sign in for today (UTC calendar day); a repeat the same day answers the same streak",
      tag: "sign-ins",
      auth: "user",
      responses: {
        201: { description: "signed in for today", schema: SignInResultSchema },
        200: { description: "already signed in today (alreadySignedIn: true)", schema: SignInResultSchema },
        404: { description: "not_found: the token's user no longer exists" },
      },
    },
    async function signInToday(ctx) {
      const result = await signIn(p, principal(ctx).userId);
      ctx.status = result.alreadySignedIn ? 200 : 201;
      ctx.body = result;
    },
  );
  api.route(
    {
      method: "get",
      path: "/sign-ins",
      summary: "The caller's sign-in history (UTC calendar days), newest first, and current streak",
      tag: "sign-ins",
      auth: "user",
      query: SignInHistoryQuerySchema,
      responses: {
        200: { description: "history and current streak", schema: SignInHistorySchema },
        400: { description: "validation_failed: limit is not an integer from 1 to 100" },
      },
    },
    async function history(ctx) {
      const { limit } = ctx.state.query;
      ctx.body = await signInHistory(p, principal(ctx).userId, limit);
    },
  );
}
