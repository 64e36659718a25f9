import { S3Client } from "@aws-sdk/client-s3";
import { z } from "zod";

/** Where an S3 API is and how to sign in to it. */
export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** A client of a self-hosted S3 server (SeaweedFS on the targets, s3rver in tests). */
export function createS3Client(e: S3Endpoint): S3Client {
  return new S3Client({
    endpoint: e.endpoint,
    region: e.region,
    forcePathStyle: true,
    credentials: { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey },
    // Checksums only where S3 demands them: self-hosted S3 servers differ on the SDK's newer
    // default (trailing CRC32); callers that need an end-to-end check keep their own.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** S3_ENDPOINT: the S3 API's URL. */
export const s3EndpointSchema = z.url({ protocol: /^https?$/, error: "an http(s) URL" });

/** A bucket name as S3 allows it (S3_BUCKET, S3_BUCKETS). */
export const s3BucketSchema = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "an S3 bucket name" });

/**
 * An S3 error as a log line may show it: its name, HTTP status and message only. The SDK copies
 * the server's whole error document onto the exception, and that names the access key id
 * (InvalidAccessKeyId, SignatureDoesNotMatch), which is a deployment secret here.
 */
export function describeS3Error(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return `${err.name}${status ? ` (HTTP ${status})` : ""}: ${err.message}`;
}
