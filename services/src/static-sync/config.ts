import { z } from "zod";
import { s3BucketSchema, s3EndpointSchema, type S3Endpoint } from "../platform/s3-client";

const absolutePath = z.string().regex(/^\/\S*$/, { error: "an absolute path" });

/** What every static-bucket program reads: the S3 API and its keys (the names the backup service uses). */
const S3EnvSchema = z.object({
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  S3_ENDPOINT: s3EndpointSchema,
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_ACCESS_KEY: z.string().min(1),
  S3_SECRET_KEY: z.string().min(1),
});

/** bucket-init's environment: the buckets to create, and how long to wait for the S3 API first. */
export const BucketInitEnvSchema = S3EnvSchema.extend({
  S3_BUCKETS: z
    .string()
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(s3BucketSchema).min(1)),
  BUCKET_INIT_WAIT_SECONDS: z.coerce.number().int().min(1).max(3600).default(180),
});

/** What the two sync loops share: their bucket, their pace, and the file their health check reads. */
const SyncLoopEnvSchema = S3EnvSchema.extend({
  S3_BUCKET: s3BucketSchema,
  SYNC_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
  HEARTBEAT_FILE: absolutePath.default("/tmp/heartbeat"),
});

/** static-publisher's environment: the folder the catalog publisher (the API) writes. */
export const PublisherEnvSchema = SyncLoopEnvSchema.extend({ STATIC_PUBLISH_DIR: absolutePath });

/** static-edge-sync's environment: the folder nginx serves, which it keeps a mirror of the bucket. */
export const EdgeSyncEnvSchema = SyncLoopEnvSchema.extend({ STATIC_EDGE_DIR: absolutePath });

/** bucket-init's parsed environment. */
export type BucketInitEnv = z.infer<typeof BucketInitEnvSchema>;
/** static-publisher's parsed environment. */
export type PublisherEnv = z.infer<typeof PublisherEnvSchema>;
/** static-edge-sync's parsed environment. */
export type EdgeSyncEnv = z.infer<typeof EdgeSyncEnvSchema>;

const HIDDEN = new Set(["S3_ACCESS_KEY", "S3_SECRET_KEY"]);

/** Parse `env` with `schema`; a bad value is reported with its variable's name and value, keys masked. */
function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, program: string): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const key = String(i.path[0]);
    const value = env[key] === undefined ? "(unset)" : HIDDEN.has(key) ? "(hidden)" : JSON.stringify(env[key]);
    return `${key} = ${value}: ${i.message}`;
  });
  throw new Error(`${program} configuration:\n  ${lines.join("\n  ")}`);
}

/** The S3 client's settings out of a parsed environment. */
export function s3EndpointOf(env: z.infer<typeof S3EnvSchema>): S3Endpoint {
  return {
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    accessKeyId: env.S3_ACCESS_KEY,
    secretAccessKey: env.S3_SECRET_KEY,
  };
}

/** bucket-init's configuration from `env`; throws naming each bad variable. */
export const parseBucketInitEnv = (env: NodeJS.ProcessEnv): BucketInitEnv =>
  parseEnv(BucketInitEnvSchema, env, "bucket-init");
/** static-publisher's configuration from `env`; throws naming each bad variable. */
export const parsePublisherEnv = (env: NodeJS.ProcessEnv): PublisherEnv =>
  parseEnv(PublisherEnvSchema, env, "static-publisher");
/** static-edge-sync's configuration from `env`; throws naming each bad variable. */
export const parseEdgeSyncEnv = (env: NodeJS.ProcessEnv): EdgeSyncEnv =>
  parseEnv(EdgeSyncEnvSchema, env, "static-edge-sync");

/** bucket-init's configuration from this process's environment. */
export const loadBucketInitEnv = () => parseBucketInitEnv(process.env);
/** static-publisher's configuration from this process's environment. */
export const loadPublisherEnv = () => parsePublisherEnv(process.env);
/** static-edge-sync's configuration from this process's environment. */
export const loadEdgeSyncEnv = () => parseEdgeSyncEnv(process.env);
