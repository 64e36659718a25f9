import Router from "@koa/router";
import { checkHealth, type HealthDeps } from "./service";

/** `/api/v1/health` (every dependency; 503 unless all are up) and `/api/v1/health/live` (the process). */
export function healthRouter(deps: HealthDeps): Router {
  const router = new Router({ prefix: "/api/v1/health" });
  router.get("/", async function health(ctx) {
    const report = await checkHealth(deps);
    ctx.status = report.status === "ok" ? 200 : 503;
    ctx.set("Cache-Control", "no-store");
    ctx.body = report;
  });
  router.get("/live", function live(ctx) {
    ctx.body = { status: "ok", instance: deps.instance };
  });
  return router;
}
