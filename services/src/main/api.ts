/** Entry point of one API replica: config from the environment, clients, HTTP server, graceful stop. */
import { createApp } from "../app";
import { loadConfig } from "../platform/config";
import { createLogger } from "../platform/log";
import { startProcessMetrics } from "../platform/metrics";
import { closePlatform, createPlatform } from "../platform/platform";
import { onShutdown } from "../platform/shutdown";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  startProcessMetrics(config.INSTANCE_ID);
  const platform = await createPlatform(config, log);
  const { app } = createApp(platform);
  const server = app.listen(config.HTTP_PORT, config.HTTP_HOST, () =>
    log.info({ host: config.HTTP_HOST, port: config.HTTP_PORT }, "api listening"),
  );
  server.keepAliveTimeout = 65_000; // longer than nginx's upstream keepalive, so nginx closes first

  onShutdown(log, [
    // Readiness fails first so the load balancer stops sending new requests here.
    { name: "readiness", run: async () => void (platform.ready = false) },
    { name: "http", run: () => new Promise<void>((resolve) => server.close(() => resolve())) },
    { name: "clients", run: () => closePlatform(platform) },
  ]);
}

void main();
