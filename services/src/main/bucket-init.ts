/**
 * One-shot: wait (BUCKET_INIT_WAIT_SECONDS) for the S3 API on S3_ENDPOINT, then create each of
 * S3_BUCKETS that is missing; exit 0 when all exist, 1 with the reason otherwise, 78 on a bad
 * environment. Speaks only S3, so it runs from the services image against any S3 server.
 */
import { createLogger } from "../platform/log";
import { runMain } from "../platform/entry-point";
import { createS3Client } from "../platform/s3-client";
import { ensureBucket, waitForS3 } from "../static-sync/bucket-init";
import { loadBucketInitEnv, s3EndpointOf } from "../static-sync/config";

async function main(env: ReturnType<typeof loadBucketInitEnv>): Promise<number> {
  const log = createLogger({ INSTANCE_ID: "bucket-init", LOG_LEVEL: env.LOG_LEVEL });
  const s3 = createS3Client(s3EndpointOf(env));
  try {
    await waitForS3(s3, env.BUCKET_INIT_WAIT_SECONDS * 1000);
    for (const bucket of env.S3_BUCKETS) log.info({ bucket, outcome: await ensureBucket(s3, bucket) }, "bucket ready");
    return 0;
  } catch (err) {
    log.error({ endpoint: env.S3_ENDPOINT }, `bucket-init failed: ${(err as Error).message}`);
    return 1;
  } finally {
    s3.destroy();
  }
}

runMain(loadBucketInitEnv, main);
