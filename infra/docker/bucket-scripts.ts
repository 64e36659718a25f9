import { PATHS } from "./context";
import { NAMES } from "./addresses";
import { boundedWait, redactEnvFilter } from "./one-shot";

/** SeaweedFS ports inside the bucket container: master (health, shell), filer (sync) and the S3 API. */
export const BUCKET_PORTS = { master: 9333, filer: 8888, s3: 8333 } as const;

/** Bucket names: the CDN's static files and the backups, prefixed with the topology's name. */
export function bucketNames(topologyName: string) {
  return { static: `${topologyName}-static`, backups: `${topologyName}-backups` };
}

const filer = `${NAMES.bucket}:${BUCKET_PORTS.filer}`;
/** Where a sync loop records that it is alive; its healthcheck reads the file's age. */
export const HEARTBEAT = "/tmp/heartbeat";

/**
 * `weed shell` commands that create the S3 identity and the buckets; they only ever add, so a
 * re-run is harmless. The keys are expanded by sh from the environment, never put in argv; and
 * as `s3.configure` prints the whole identity configuration, keys included, its output passes a
 * filter that redacts them before it reaches the container's logs.
 */
export function bucketInitScript(buckets: string[], waitSeconds = 180): string {
  const shell = `weed shell -master=${NAMES.bucket}:${BUCKET_PORTS.master}`;
  const status = `http://${NAMES.bucket}:${BUCKET_PORTS.master}/cluster/status`;
  return [
    boundedWait(`wget -q -O /dev/null ${status}`, "the bucket's master answering", waitSeconds),
    `echo "s3.configure -user=floodgate -access_key=$BUCKET_ACCESS_KEY -secret_key=$BUCKET_SECRET_KEY -actions=Read,Write,List,Tagging -apply" | ${shell} 2>&1 | ${redactEnvFilter(["BUCKET_ACCESS_KEY", "BUCKET_SECRET_KEY"])}`,
    ...buckets.map(
      (b) => `echo "s3.bucket.list" | ${shell} | grep -qw ${b} || echo "s3.bucket.create -name ${b}" | ${shell}`,
    ),
  ].join("\n");
}

/**
 * Uploads what the catalog publisher wrote into the bucket: content-hashed files once, anything
 * else (the manifest) on every pass; dot-files are the publisher's half-written temporaries.
 */
export function publisherScript(bucket: string): string {
  return [
    `cd ${PATHS.staticDir}`,
    "touch /tmp/uploaded",
    "while true; do",
    "  for f in $(ls -A | grep -v '^[.]'); do",
    '    case "$f" in *.[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*.*) grep -qxF "$f" /tmp/uploaded && continue;; esac',
    `    weed filer.copy "$f" http://${filer}/buckets/${bucket}/ && echo "$f" >> /tmp/uploaded`,
    "  done",
    `  touch ${HEARTBEAT}`,
    "  sleep 2",
    "done",
  ].join("\n");
}

/**
 * Mirrors the bucket into the edge's volume with SeaweedFS's own backup tool (local sink).
 * `-timeAgo` replays every change from the start, so an empty volume is filled completely.
 */
export function edgeSyncScript(bucket: string): string {
  const toml = `[sink.local]\\nenabled = true\\ndirectory = "${PATHS.staticRoot}"\\nis_incremental = false\\n`;
  return [
    `cd /tmp && printf '${toml}' > replication.toml`,
    `exec weed filer.backup -filer=${filer} -filerPath=/buckets/${bucket} -filerProxy -doDeleteFiles -timeAgo=876000h`,
  ].join(" && ");
}
