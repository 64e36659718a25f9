import type Koa from "koa";
import { collectDefaultMetrics, Counter, Histogram, register } from "prom-client";

/** HTTP latency by route template and status. */
export const httpDuration = new Histogram({
  name: "floodgate_http_request_duration_seconds",
  help: "HTTP request duration by method, route template and status",
  labelNames: ["method", "route", "status"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

/** Cache lookups by cache name, level (l1, l2) and result (hit, miss, error). */
export const cacheLookups = new Counter({
  name: "floodgate_cache_lookups_total",
  help: "Cache lookups by cache, level and result",
  labelNames: ["cache", "level", "result"] as const,
});

/** Loader calls (cache misses that reached the database). */
export const cacheL1Resets = new Counter({
  name: "floodgate_cache_l1_resets_total",
  help: "Whole-L1 resets by reason: Redis unreachable, an invalidation missed",
  labelNames: ["reason"] as const,
});

export const cacheLoads = new Counter({
  name: "floodgate_cache_loads_total",
  help: "Cache loader calls (database loads) by cache",
  labelNames: ["cache"] as const,
});

/** Database query time by pool (writer, reader) and outcome. */
export const dbQueryDuration = new Histogram({
  name: "floodgate_db_query_duration_seconds",
  help: "Database query duration by pool and outcome",
  labelNames: ["pool", "outcome"] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
});

/** RabbitMQ publishes by queue and outcome (confirmed, nacked, failed). */
export const mqPublishes = new Counter({
  name: "floodgate_mq_publishes_total",
  help: "RabbitMQ publishes by queue and outcome",
  labelNames: ["queue", "outcome"] as const,
});

/** Behaviour events dropped because the API's tracking buffer was full (RabbitMQ slow or down). */
export const trackingEventsDropped = new Counter({
  name: "floodgate_tracking_events_dropped_total",
  help: "Behaviour events dropped because the tracking buffer was full",
});

/** Start the default process metrics once, labelled with the instance. */
export function startProcessMetrics(instance: string): void {
  register.setDefaultLabels({ instance_id: instance });
  collectDefaultMetrics();
}

/** Time every request by its route template (never the raw path: ids would explode the label set). */
export function httpMetrics(): Koa.Middleware {
  return async function timeRequest(ctx, next) {
    const end = httpDuration.startTimer();
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? "unmatched";
      end({ method: ctx.method, route: String(route), status: String(ctx.status) });
    }
  };
}

/** The /metrics handler. */
export async function metricsHandler(ctx: Koa.Context): Promise<void> {
  ctx.type = register.contentType;
  ctx.body = await register.metrics();
}
