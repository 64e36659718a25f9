import Koa from "koa";
import Router from "@koa/router";
import { collectDefaultMetrics, register } from "prom-client";
import { healthRouter } from "./modules/health/router";
import type { HealthDeps } from "./modules/health/service";
import type { Logger } from "./platform/log";

/** Everything the API app needs, built once per process. */
export interface AppDeps extends HealthDeps {
  log: Logger;
}

/** Build the Koa application: routes, metrics and a JSON 404 for everything else. */
export function createApp(deps: AppDeps): Koa {
  collectDefaultMetrics({ labels: { instance_id: deps.instance } });
  const app = new Koa();
  app.proxy = true; // nginx sets X-Forwarded-For from $remote_addr; clients cannot forge it.

  const metrics = new Router();
  metrics.get("/metrics", async function metrics(ctx) {
    ctx.type = register.contentType;
    ctx.body = await register.metrics();
  });

  const health = healthRouter(deps);
  app.use(health.routes()).use(health.allowedMethods());
  app.use(metrics.routes());
  app.use(function notFound(ctx) {
    ctx.status = 404;
    ctx.body = { error: "not_found", message: `no route for ${ctx.method} ${ctx.path}` };
  });
  return app;
}
