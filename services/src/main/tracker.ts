/** Entry point of the tracker: consumes behaviour events into tracking_stats and serves /stats, /health, /metrics. */
import { Cluster } from "ioredis";
import { loadConfig } from "../platform/config";
import { Database } from "../platform/db";
import { createLogger } from "../platform/log";
import { startProcessMetrics } from "../platform/metrics";
import { RedisBreaker } from "../platform/redis-breaker";
import { ReadYourWrites } from "../platform/read-your-writes";
import { onShutdown } from "../platform/shutdown";
import { TrackingConsumer } from "../tracker/consumer";
import { createTrackerApp } from "../tracker/http";
import { TrackingStatsRepository } from "../tracker/repository";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  startProcessMetrics(config.INSTANCE_ID);
  // The tracker never reads on behalf of a user, so read-your-writes is never consulted: a lazy
  // client that never connects keeps Redis out of the tracker's dependencies.
  const db = new Database(
    config,
    new ReadYourWrites(new Cluster(config.REDIS_NODES, { lazyConnect: true }), new RedisBreaker()),
    5,
  );
  const repo = new TrackingStatsRepository(db);
  const consumer = new TrackingConsumer(config, repo, log);
  await consumer.start();
  let ready = true;
  const app = createTrackerApp({ instance: config.INSTANCE_ID, repo, consumer, log, ready: () => ready });
  const server = app.listen(config.HTTP_PORT, config.HTTP_HOST, () =>
    log.info({ host: config.HTTP_HOST, port: config.HTTP_PORT }, "tracker listening"),
  );

  onShutdown(log, [
    { name: "readiness", run: async () => void (ready = false) },
    // Final flush and ack before the connection closes, so nothing received is redelivered needlessly.
    { name: "consumer", run: () => consumer.stop() },
    { name: "http", run: () => new Promise<void>((resolve) => server.close(() => resolve())) },
    { name: "database", run: () => db.close() },
  ]);
}

void main();
