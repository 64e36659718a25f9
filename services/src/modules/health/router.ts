import type Koa from "koa";
import { z } from "zod";
import type { ApiRouter } from "../../platform/api-router";
import type { Platform } from "../../platform/platform";
import { monitorFor } from "./monitor";
import { readiness } from "./readiness";

const ReadinessSchema = z.object({ status: z.enum(["ok", "draining", "isolated"]), instance: z.string() });

/**
 * `/health`: readiness (503 only while draining, or when this replica reaches no dependency at all;
 * see readiness()) and `/health/live`: liveness (the process answers). Public answers carry no
 * dependency detail: that is on the internal port (dependenciesHandler) and in metrics.
 */
export function healthRoutes(api: ApiRouter, p: Platform): void {
  const monitor = monitorFor(p);
  api.route(
    {
      method: "get",
      path: "/health",
      summary: "Readiness: whether this replica should get traffic",
      tag: "health",
      auth: "none",
      responses: {
        200: {
          description: "ready (some dependencies may be down: every replica shares them)",
          schema: ReadinessSchema,
        },
        503: {
          description: "draining after SIGTERM, or isolated: this replica reaches no dependency at all",
          schema: ReadinessSchema,
        },
      },
    },
    async function health(ctx) {
      const status = readiness(!p.ready, p.ready ? await monitor.report().catch(() => null) : null);
      ctx.status = status === "ok" ? 200 : 503;
      ctx.set("Cache-Control", "no-store");
      ctx.body = { status, instance: p.config.INSTANCE_ID };
    },
  );
  api.route(
    {
      method: "get",
      path: "/health/live",
      summary: "Liveness: the process answers",
      tag: "health",
      auth: "none",
      standalone: true,
      responses: { 200: { description: "alive", schema: z.object({ status: z.literal("ok"), instance: z.string() }) } },
    },
    function live(ctx) {
      ctx.body = { status: "ok", instance: p.config.INSTANCE_ID };
    },
  );
}

/** GET /health/dependencies on the replica's internal port: every dependency's state, latency and error. */
export function dependenciesHandler(p: Platform): Koa.Middleware {
  const monitor = monitorFor(p);
  return async function dependencies(ctx) {
    const report = await monitor.report();
    ctx.set("Cache-Control", "no-store");
    ctx.body = { status: readiness(!p.ready, report), ...report };
  };
}
