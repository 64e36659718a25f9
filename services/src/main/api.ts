/** Entry point of one API replica: config from the environment, clients, HTTP server, graceful stop. */
import { createApp } from "../app";
import { loadConfig } from "../platform/config";
import { createDatabase } from "../platform/db";
import { createLogger } from "../platform/log";
import { MessageBroker } from "../platform/mq";
import { createRedis } from "../platform/redis";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  const db = createDatabase(config);
  const redis = createRedis(config);
  redis.on("error", (err: Error) => log.warn({ err: err.message }, "redis error"));
  const mq = new MessageBroker(config, log);
  await mq.start();

  const app = createApp({ instance: config.INSTANCE_ID, db, redis, mq, log });
  const server = app.listen(config.HTTP_PORT, config.HTTP_HOST, () =>
    log.info({ host: config.HTTP_HOST, port: config.HTTP_PORT }, "api listening"),
  );
  server.keepAliveTimeout = 65_000; // longer than nginx's upstream keepalive, so nginx closes first

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled([db.close(), redis.quit(), mq.close()]);
    clearTimeout(force);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

void main();
