import { envList } from "./app-env";
import { PATHS } from "./context";

/** SeaweedFS ports inside the bucket container: the master (its health check) and the S3 API. */
export const BUCKET_PORTS = { master: 9333, s3: 8333 } as const;

/** Bucket names: the CDN's static files and the backups, prefixed with the topology's name. */
export function bucketNames(topologyName: string) {
  return { static: `${topologyName}-static`, backups: `${topologyName}-backups` };
}

/** Where the bucket container reads its S3 identities (`weed server -s3.config`). */
export const S3_IDENTITIES_FILE = "/etc/seaweedfs/s3.json";

/** Where a sync loop records that it is alive; its healthcheck reads the file's age. */
export const HEARTBEAT = "/tmp/heartbeat";

/** A sync loop's health: a heartbeat written within the last minute (findutils is in every Debian image). */
export const HEARTBEAT_CHECK = `[ -n "$(find ${HEARTBEAT} -mmin -1)" ] || exit 1`;

/** The S3 API and the deployment's keys, as the static-bucket programs' S3_* variables carry them. */
export interface BucketAccess {
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

const s3Env = (a: BucketAccess) => ({
  S3_ENDPOINT: a.endpoint,
  S3_ACCESS_KEY: a.accessKey,
  S3_SECRET_KEY: a.secretKey,
});

/** bucket-init's environment (services/src/main/bucket-init.ts): the buckets it creates when missing. */
export function bucketInitEnv(a: BucketAccess, buckets: string[]): string[] {
  return envList({ ...s3Env(a), S3_BUCKETS: buckets.join(","), BUCKET_INIT_WAIT_SECONDS: "180" });
}

/** static-publisher's environment: the API's publish volume (PATHS.staticDir) into `bucket`. */
export function publisherEnv(a: BucketAccess, bucket: string): string[] {
  return envList({ ...s3Env(a), S3_BUCKET: bucket, STATIC_PUBLISH_DIR: PATHS.staticDir, HEARTBEAT_FILE: HEARTBEAT });
}

/** static-edge-sync's environment: `bucket` mirrored into the edge volume (PATHS.staticRoot). */
export function edgeSyncEnv(a: BucketAccess, bucket: string): string[] {
  return envList({ ...s3Env(a), S3_BUCKET: bucket, STATIC_EDGE_DIR: PATHS.staticRoot, HEARTBEAT_FILE: HEARTBEAT });
}
