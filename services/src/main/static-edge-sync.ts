/**
 * Long-running: every SYNC_INTERVAL_MS, makes STATIC_EDGE_DIR (what nginx serves under /static/)
 * a mirror of S3_BUCKET — new and changed objects downloaded atomically, files no longer in the
 * bucket deleted — and rewrites HEARTBEAT_FILE after each pass without a failure (the health check).
 */
import { createLogger } from "../platform/log";
import { runMain } from "../platform/entry-point";
import { createS3Client } from "../platform/s3-client";
import { loadEdgeSyncEnv, s3EndpointOf } from "../static-sync/config";
import { mirrorPass } from "../static-sync/edge-sync";
import { runSyncLoop } from "../static-sync/sync-loop";

async function main(env: ReturnType<typeof loadEdgeSyncEnv>): Promise<number> {
  const log = createLogger({ INSTANCE_ID: "static-edge-sync", LOG_LEVEL: env.LOG_LEVEL });
  const s3 = createS3Client(s3EndpointOf(env));
  const target = { s3, bucket: env.S3_BUCKET, dir: env.STATIC_EDGE_DIR };
  // ETags of what is on disk; empty at start, so the first pass downloads everything once.
  const known = new Map<string, string>();
  const stop = new AbortController();
  process.once("SIGTERM", () => stop.abort());
  process.once("SIGINT", () => stop.abort());
  log.info({ bucket: env.S3_BUCKET, dir: env.STATIC_EDGE_DIR, endpoint: env.S3_ENDPOINT }, "mirroring");
  const skippedBefore = new Set<string>();
  await runSyncLoop({
    intervalMs: env.SYNC_INTERVAL_MS,
    heartbeatFile: env.HEARTBEAT_FILE,
    signal: stop.signal,
    onError: (error) => log.warn({ error }, "mirror pass failed"),
    pass: async () => {
      const { downloaded, deleted, skipped, failed } = await mirrorPass(target, known);
      if (downloaded.length || deleted.length) log.info({ downloaded, deleted }, "mirrored");
      // Once per key, not every pass.
      const fresh = skipped.filter((k) => !skippedBefore.has(k));
      fresh.forEach((k) => skippedBefore.add(k));
      if (fresh.length) log.warn({ keys: fresh }, "keys the folder cannot hold as files of its own: left out");
      for (const f of failed) log.warn({ file: f.name, error: f.error }, "download failed");
      return failed.length === 0;
    },
  });
  s3.destroy();
  return 0;
}

runMain(loadEdgeSyncEnv, main);
