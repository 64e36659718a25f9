import type * as k8s from "@pulumi/kubernetes";
import { PATHS } from "./context";
import { resources, type Size } from "./pod-spec";

/** Ports of SeaweedFS's `weed server`: master, S3 API, filer HTTP, and (SeaweedFS's rule: +10000) their gRPC ports. */
export const BUCKET_PORTS = { master: 9333, masterGrpc: 19333, s3: 8333, filer: 8888, filerGrpc: 18888 } as const;

/** Bucket names: the CDN's static files and the backups, prefixed with the topology's name (as on Docker). */
export function bucketNames(topologyName: string): { static: string; backups: string } {
  return { static: `${topologyName}-static`, backups: `${topologyName}-backups` };
}

/**
 * The sync sidecars have no endpoint to probe: each exits when its loop fails and the kubelet
 * restarts it, so they alone run without readiness and liveness probes.
 */
export const UNPROBED_SIDECARS = ["static-sync", "static-publish"] as const;

/** `weed shell` commands creating each bucket that does not exist yet, so a re-run is harmless. */
export function bucketInitScript(master: string, buckets: string[]): string {
  const shell = `weed shell -master=${master}`;
  return [
    `until echo "cluster.check" | ${shell} >/dev/null 2>&1; do sleep 2; done`,
    ...buckets.map(
      (b) => `echo "s3.bucket.list" | ${shell} | grep -qw ${b} || echo "s3.bucket.create -name ${b}" | ${shell}`,
    ),
  ].join("\n");
}

/** Uploads what the API wrote: content-hashed names once, anything else (the manifest) every round. */
export function publisherScript(filerFolderUrl: string): string {
  return [
    `cd ${PATHS.staticDir}`,
    "touch /tmp/uploaded",
    "while true; do",
    // Hidden names are the API's half-written temporary files.
    "  for f in $(ls -A | grep -v '^[.]'); do",
    '    case "$f" in *.[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*.*) grep -qxF "$f" /tmp/uploaded && continue;; esac',
    `    weed filer.copy "$f" ${filerFolderUrl} && echo "$f" >> /tmp/uploaded`,
    "  done",
    "  sleep 2",
    "done",
  ].join("\n");
}

/**
 * Mirrors the bucket's folder into the edge's directory. The directory is new on every start, so
 * `-timeAgo` replays every change from the beginning instead of resuming from the saved checkpoint.
 */
export function edgeSyncScript(filer: string, folder: string): string {
  const toml = `[sink.local]\\nenabled = true\\ndirectory = "${PATHS.staticRoot}"\\nis_incremental = false\\n`;
  return [
    `cd /tmp && printf '${toml}' > replication.toml`,
    `exec weed filer.backup -filer=${filer} -filerPath=${folder} -filerProxy -doDeleteFiles -timeAgo=876000h`,
  ].join(" && ");
}

/** The two sync sidecars: the edge's (bucket → nginx's static volume) and the API's (API's static volume → bucket). */
export function staticSidecars(image: string, filer: string, bucket: string, size: Size) {
  const sidecar = (
    name: (typeof UNPROBED_SIDECARS)[number],
    script: string,
    mountPath: string,
  ): k8s.types.input.core.v1.Container => ({
    name,
    image,
    command: ["sh", "-c", script],
    volumeMounts: [{ name: "static", mountPath }],
    resources: resources(size),
  });
  return {
    edgeSync: sidecar("static-sync", edgeSyncScript(filer, `/buckets/${bucket}`), PATHS.staticRoot),
    publisher: sidecar("static-publish", publisherScript(`http://${filer}/buckets/${bucket}/`), PATHS.staticDir),
  };
}
