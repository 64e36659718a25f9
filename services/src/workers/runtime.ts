import http from "node:http";
import { Counter, Histogram, register } from "prom-client";
import { loadConfig, type ServiceConfig } from "../platform/config";
import { createLogger, type Logger } from "../platform/log";
import { startProcessMetrics } from "../platform/metrics";
import { closePlatform, createPlatform, type Platform } from "../platform/platform";
import { onShutdown } from "../platform/shutdown";

/** Messages handled by queue workers, by queue and outcome (processed, failed, retried, dead_lettered). */
export const workerMessages = new Counter({
  name: "floodgate_worker_messages_total",
  help: "Messages handled by queue workers, by queue and outcome",
  labelNames: ["queue", "outcome"] as const,
});

/** Seconds from enqueue to commit, by queue. */
export const workerLag = new Histogram({
  name: "floodgate_worker_lag_seconds",
  help: "Seconds from a message's enqueue to its commit, by queue",
  labelNames: ["queue"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

/** Messages persisted per batch (one transaction), by queue. */
export const workerBatchSize = new Histogram({
  name: "floodgate_worker_batch_size",
  help: "Messages persisted in one batch (one database transaction), by queue",
  labelNames: ["queue"] as const,
  buckets: [1, 2, 4, 8, 16, 32, 64, 128],
});

/** What a worker's consumer gets: the platform (db, redis, caches, mq), config and logger. */
export interface WorkerContext {
  platform: Platform;
  config: ServiceConfig;
  log: Logger;
  /** WORKER_CONCURRENCY: messages handled at once. */
  concurrency: number;
}

/** A running consumer: `stop` stops taking new messages and resolves once in-flight ones are settled. */
export interface Consumer {
  stop(): Promise<void>;
  /** False when the consumer has lost its broker connection and is reconnecting. */
  healthy(): boolean;
}

/**
 * Run one queue-worker process: config from the environment, the platform's clients, /health and
 * /metrics on HTTP_HOST:HTTP_PORT, and a graceful drain on SIGTERM (health fails → stop taking
 * messages → finish and ack in-flight ones → close clients).
 */
export async function runWorker(kind: string, startConsumer: (ctx: WorkerContext) => Promise<Consumer>): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config).child({ worker: kind });
  startProcessMetrics(config.INSTANCE_ID);
  const platform = await createPlatform(config, log);
  const consumer = await startConsumer({ platform, config, log, concurrency: config.WORKER_CONCURRENCY });
  let draining = false;
  const server = http.createServer((req, res) => {
    if (req.url === "/metrics") {
      void register.metrics().then((body) => {
        res.writeHead(200, { "content-type": register.contentType });
        res.end(body);
      });
      return;
    }
    if (req.url === "/health") {
      const ok = !draining && consumer.healthy();
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ status: draining ? "draining" : ok ? "ok" : "degraded", instance: config.INSTANCE_ID, kind }),
      );
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "not_found" }));
  });
  server.listen(config.HTTP_PORT, config.HTTP_HOST, () => log.info({ port: config.HTTP_PORT }, "worker listening"));
  onShutdown(
    log,
    [
      { name: "health", run: async () => void (draining = true) },
      { name: "consumer", run: () => consumer.stop() },
      { name: "http", run: () => new Promise<void>((resolve) => server.close(() => resolve())) },
      { name: "clients", run: () => closePlatform(platform) },
    ],
    30_000,
  );
}
