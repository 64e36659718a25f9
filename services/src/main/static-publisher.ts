/**
 * Long-running: every SYNC_INTERVAL_MS, uploads what the catalog publisher (the API) wrote to
 * STATIC_PUBLISH_DIR into S3_BUCKET — content-hashed files once, the manifest every pass — and
 * rewrites HEARTBEAT_FILE after each pass without a failure (the container's health check).
 */
import { createLogger } from "../platform/log";
import { runMain } from "../platform/entry-point";
import { createS3Client } from "../platform/s3-client";
import { loadPublisherEnv, s3EndpointOf } from "../static-sync/config";
import { publishPass } from "../static-sync/publisher";
import { runSyncLoop } from "../static-sync/sync-loop";

async function main(env: ReturnType<typeof loadPublisherEnv>): Promise<number> {
  const log = createLogger({ INSTANCE_ID: "static-publisher", LOG_LEVEL: env.LOG_LEVEL });
  const s3 = createS3Client(s3EndpointOf(env));
  const target = { s3, bucket: env.S3_BUCKET, dir: env.STATIC_PUBLISH_DIR };
  const done = new Set<string>();
  const stop = new AbortController();
  process.once("SIGTERM", () => stop.abort());
  process.once("SIGINT", () => stop.abort());
  log.info({ bucket: env.S3_BUCKET, dir: env.STATIC_PUBLISH_DIR, endpoint: env.S3_ENDPOINT }, "publishing");
  await runSyncLoop({
    intervalMs: env.SYNC_INTERVAL_MS,
    heartbeatFile: env.HEARTBEAT_FILE,
    signal: stop.signal,
    onError: (error) => log.warn({ error }, "publish pass failed"),
    pass: async () => {
      const { uploaded, failed } = await publishPass(target, done);
      // The manifest goes up every pass: only content-hashed uploads are news.
      const published = uploaded.filter((n) => done.has(n));
      if (published.length) log.info({ files: published }, "published");
      for (const f of failed) log.warn({ file: f.name, error: f.error }, "upload failed");
      return failed.length === 0;
    },
  });
  s3.destroy();
  return 0;
}

runMain(loadPublisherEnv, main);
