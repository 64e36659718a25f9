/** Entry point of one API replica: config from the environment, clients, HTTP server, graceful stop. */
import net from "node:net";
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

  let closed: Promise<void> = Promise.resolve();
  onShutdown(
    log,
    [
      {
        // Readiness fails and the listener closes (connects are refused, which nginx retries
        // elsewhere even for POSTs). net.Server's close, not http.Server's: the latter would also
        // drop idle keep-alive sockets that nginx may be sending a request on right now.
        name: "stop accepting",
        run: async () => {
          platform.ready = false;
          closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
        },
      },
      // Open connections keep being served, each answer retiring its connection (Connection:
      // close); idle ones are closed by nginx itself (its upstream keepalive_timeout is shorter).
      { name: "drain", run: () => new Promise<void>((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS)) },
      {
        name: "http",
        run: async () => {
          server.closeIdleConnections();
          await closed;
        },
      },
      // Requests are answered by now; their buffered tracking events go out before RabbitMQ closes.
      { name: "tracking", run: () => platform.tracking.flush() },
      { name: "clients", run: () => closePlatform(platform) },
    ],
    config.SHUTDOWN_DRAIN_MS + 15_000,
  );
}

void main();
