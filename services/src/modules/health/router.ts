import { z } from "zod";
import type { ApiRouter } from "../../platform/api-router";
import type { Platform } from "../../platform/platform";
import { checkHealth } from "./service";

const CheckSchema = z.object({ status: z.enum(["up", "down"]), latencyMs: z.number(), error: z.string().optional() });
const HealthSchema = z.object({
  status: z.enum(["ok", "degraded", "draining"]),
  instance: z.string(),
  checks: z.record(z.string(), CheckSchema),
});

/** `/health` (every dependency; 503 unless all are up, or while draining) and `/health/live` (the process). */
export function healthRoutes(api: ApiRouter, p: Platform): void {
  api.route(
    {
      method: "get",
      path: "/health",
      summary: "Readiness: this replica and every dependency it uses",
      tag: "health",
      auth: "none",
      responses: {
        200: { description: "all up", schema: HealthSchema },
        503: { description: "a dependency is down or draining", schema: HealthSchema },
      },
    },
    async function health(ctx) {
      const report = await checkHealth({ instance: p.config.INSTANCE_ID, db: p.db, redis: p.redis, mq: p.mq });
      const status = p.ready ? report.status : "draining";
      ctx.status = status === "ok" ? 200 : 503;
      ctx.set("Cache-Control", "no-store");
      ctx.body = { ...report, status };
    },
  );
  api.route(
    {
      method: "get",
      path: "/health/live",
      summary: "Liveness: the process answers",
      tag: "health",
      auth: "none",
      responses: { 200: { description: "alive", schema: z.object({ status: z.literal("ok"), instance: z.string() }) } },
    },
    function live(ctx) {
      ctx.body = { status: "ok", instance: p.config.INSTANCE_ID };
    },
  );
}
