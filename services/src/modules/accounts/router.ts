import type { ApiRouter } from "../../platform/api-router";
import type { Platform } from "../../platform/platform";
import { CreateSessionSchema, CreateUserSchema, SessionSchema, UserSchema } from "./schema";
import { createSession, registerUser } from "./service";

/** Sign-up and login. */
export function accountsRoutes(api: ApiRouter, p: Platform): void {
  api.route(
    {
      method: "post",
      path: "/users",
      summary: "Create an account",
      tag: "accounts",
      auth: "none",
      body: CreateUserSchema,
      before: [p.limits.signups],
      responses: {
        201: { description: "created", schema: UserSchema },
        409: { description: "username_taken" },
        429: { description: "rate_limited (sign-ups per client address)" },
        503: { description: "unavailable: the database cannot take the sign-up now (Retry-After)" },
      },
    },
    async function signUp(ctx) {
      ctx.status = 201;
      ctx.body = await registerUser(p, ctx.state.body);
    },
  );
  api.route(
    {
      method: "post",
      path: "/sessions",
      summary: "Log in: exchange a username and password for an access token",
      tag: "accounts",
      auth: "none",
      body: CreateSessionSchema,
      before: [p.limits.logins],
      responses: {
        200: { description: "an access token", schema: SessionSchema },
        401: { description: "invalid_credentials" },
        429: { description: "rate_limited (per client address)" },
      },
    },
    async function logIn(ctx) {
      ctx.body = await createSession(p, ctx.state.body);
    },
  );
}
