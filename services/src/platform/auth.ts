import type Koa from "koa";
import { ForbiddenError, UnauthorizedError } from "./errors";
import type { Principal, Tokens } from "./tokens";

/** Require `Authorization: Bearer <token>`; puts the principal in ctx.state.user. */
export function requireAuth(tokens: Tokens): Koa.Middleware {
  return async function authenticated(ctx, next) {
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get("Authorization"))?.[1];
    if (token === undefined) throw UnauthorizedError();
    ctx.state.user = await tokens.verify(token);
    await next();
  };
}

/** Require the admin role (after requireAuth). */
export function requireAdmin(): Koa.Middleware {
  return async function adminOnly(ctx, next) {
    if ((ctx.state.user as Principal | undefined)?.role !== "admin")
      throw ForbiddenError("admin_only", "administrators only");
    await next();
  };
}

/** The authenticated principal of a request that passed requireAuth. */
export function principal(ctx: Koa.Context): Principal {
  return ctx.state.user as Principal;
}
