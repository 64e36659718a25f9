import { randomUUID } from "node:crypto";
import type Koa from "koa";
import type { Logger } from "./log";

const REQUEST_ID = /^[A-Za-z0-9-]{8,64}$/;

/** Give every request an id (nginx's X-Request-Id when well-formed) and a child logger carrying it. */
export function requestContext(log: Logger): Koa.Middleware {
  return async function withRequestContext(ctx, next) {
    const incoming = ctx.get("X-Request-Id");
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set("X-Request-Id", requestId);
    await next();
  };
}
