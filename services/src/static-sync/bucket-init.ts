import { setTimeout as sleep } from "node:timers/promises";
import { CreateBucketCommand, ListBucketsCommand, type S3Client } from "@aws-sdk/client-s3";
import { describeS3Error } from "../platform/s3-client";

/**
 * A client error (4xx) means the server is up and refused the request — wrong keys, or not an S3
 * API's root at that URL: waiting longer would not help. Timeouts and throttling (408, 429) would.
 */
function refused(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** How long one probe may take before it counts as unanswered. */
const PROBE_TIMEOUT_MS = 5000;

/**
 * Resolves once the S3 API lists buckets with these keys, probing `retryMs` apart; rejects when it
 * has not within `timeoutMs` (with the last error), or at once when the server refuses.
 */
export async function waitForS3(s3: S3Client, timeoutMs: number, retryMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await s3.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return;
    } catch (err) {
      if (refused(err)) throw new Error(`the S3 API refused to list buckets: ${describeS3Error(err)}`, { cause: err });
      if (Date.now() + retryMs >= deadline)
        throw new Error(`the S3 API did not answer within ${timeoutMs / 1000} s; last: ${describeS3Error(err)}`, {
          cause: err,
        });
    }
    await sleep(retryMs);
  }
}

/** What `ensureBucket` found. */
export type BucketOutcome = "created" | "existed";

/** Create `bucket` unless it exists: a re-run, or two runs at once, change nothing. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<BucketOutcome> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return "created";
  } catch (err) {
    // S3 answers BucketAlreadyOwnedByYou; s3rver and older servers BucketAlreadyExists. On a
    // private server both are this deployment's bucket.
    if (err instanceof Error && (err.name === "BucketAlreadyOwnedByYou" || err.name === "BucketAlreadyExists"))
      return "existed";
    throw new Error(`creating bucket ${bucket}: ${describeS3Error(err)}`, { cause: err });
  }
}
