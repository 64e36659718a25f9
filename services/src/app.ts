import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import Koa from "koa";
import { modules } from "./modules";
import { dependenciesHandler } from "./modules/health/router";
import { ApiRouter } from "./platform/api-router";
import { errorHandler, NotFoundError } from "./platform/errors";
import { httpMetrics, metricsHandler } from "./platform/metrics";
import type { Platform } from "./platform/platform";
import { requestContext } from "./platform/request-context";

/** Build the Koa application: request context, metrics, errors, rate limits, every module's routes. */
export function createApp(p: Platform): { app: Koa; api: ApiRouter } {
  const app = new Koa({ proxy: true, maxIpsCount: 1 }); // nginx overwrites X-Forwarded-For with $remote_addr
  const api = new ApiRouter({ tokens: p.tokens, perUser: p.limits.perUser });
  for (const register of modules) register(api, p);
  api.route(
    {
      method: "get",
      path: "/openapi.json",
      summary: "This document",
      tag: "meta",
      auth: "none",
      standalone: true,
      responses: { 200: { description: "the OpenAPI 3.1 document of every route" } },
    },
    function openapi(ctx) {
      ctx.body = api.document({ title: "floodgate API", version: "1" });
    },
  );

  const internal = new Router();
  internal.get("/metrics", metricsHandler); // scraped on the replica's own port; nginx does not expose it
  // Dependency detail (error text, internal addresses) stays here, off the public /api/v1/health.
  internal.get("/health/dependencies", dependenciesHandler(p));

  app.use(async function retireConnectionsWhileDraining(ctx, next) {
    // Once shutdown began, every answer tells nginx to drop the keep-alive connection after it,
    // so no request is ever sent on a connection this process is about to close.
    if (!p.ready) ctx.set("Connection", "close");
    await next();
  });
  app.use(requestContext(p.log));
  app.use(httpMetrics());
  app.use(errorHandler(p.log));
  app.use(internal.routes());
  app.use(async function limitPerIp(ctx, next) {
    // Health checks come from load balancers and probes, which must never be rate-limited.
    if (ctx.path.startsWith("/api/v1/health")) return next();
    return p.limits.perIp(ctx, next);
  });
  app.use(async function unmatched(ctx, next) {
    // After the router and allowedMethods (which sets 405 and answers OPTIONS) have had their say.
    await next();
    if (ctx.status === 405) {
      ctx.body = { error: "method_not_allowed", message: `${ctx.method} is not allowed on ${ctx.path}` };
    } else if (ctx.status === 404 && ctx.body == null) {
      throw NotFoundError(`no route for ${ctx.method} ${ctx.path}`);
    }
  });
  app.use(bodyParser({ enableTypes: ["json"], jsonLimit: "64kb", encoding: "utf-8" }));
  app.use(api.router.routes());
  app.use(api.router.allowedMethods());
  return { app, api };
}
