import Router from "@koa/router";
import Koa from "koa";
import { z } from "zod";
import { errorHandler, NotFoundError } from "../platform/errors";
import type { Logger } from "../platform/log";
import { httpMetrics, metricsHandler } from "../platform/metrics";
import { requestContext } from "../platform/request-context";
import { TrackingEventSchema } from "../platform/tracking";
import { validateQuery } from "../platform/validate";
import type { TrackingConsumer } from "./consumer";
import type { TrackingStatsRepository } from "./repository";

const HEALTH_TIMEOUT_MS = 1500;

// A stopped (SIGSTOP) MySQL must make /health answer "down" in bounded time, not hang the probe.
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** `GET /stats` query: one event type and subject. */
export const StatsQuerySchema = z.strictObject({
  type: TrackingEventSchema.shape.type,
  subject: TrackingEventSchema.shape.subject,
});

/** `GET /stats` query, parsed. */
export type StatsQuery = z.infer<typeof StatsQuerySchema>;

/** What the tracker's HTTP side reads. */
export interface TrackerHttpDeps {
  instance: string;
  repo: TrackingStatsRepository;
  consumer: TrackingConsumer;
  log: Logger;
  /** False once shutdown began. */
  ready: () => boolean;
}

/** The tracker's Koa app: `/stats` (totals from MySQL), `/health` and `/metrics`. */
export function createTrackerApp(deps: TrackerHttpDeps): Koa {
  const app = new Koa();
  const router = new Router();

  router.get("/stats", validateQuery(StatsQuerySchema), async function stats(ctx) {
    const { type, subject } = ctx.state.query as StatsQuery;
    const totals = await deps.repo.totals(type, subject);
    ctx.set("Cache-Control", "no-store");
    ctx.body = { type, subject, ...totals };
  });

  router.get("/health", async function health(ctx) {
    const mysql = await withTimeout(deps.repo.ping(), HEALTH_TIMEOUT_MS).then(
      () => ({ status: "up" as const }),
      (err: Error) => ({ status: "down" as const, error: err.message }),
    );
    const rabbitmq = deps.consumer.consuming ? { status: "up" as const } : { status: "down" as const };
    const up = mysql.status === "up" && rabbitmq.status === "up";
    const status = !deps.ready() ? "draining" : up ? "ok" : "degraded";
    ctx.status = status === "ok" ? 200 : 503;
    ctx.set("Cache-Control", "no-store");
    ctx.body = { status, instance: deps.instance, checks: { mysql, rabbitmq } };
  });

  router.get("/metrics", metricsHandler);

  app.use(requestContext(deps.log));
  app.use(httpMetrics());
  app.use(errorHandler(deps.log));
  app.use(router.routes());
  app.use(function notFound(ctx) {
    throw NotFoundError(`no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}
