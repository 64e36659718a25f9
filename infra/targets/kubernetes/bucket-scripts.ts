import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { appCommand } from "./app-env";
import { PATHS } from "./context";
import { runAsImageUser } from "./image-users";
import { secretEnv } from "./object-specs";
import { resources, type Size } from "./pod-spec";

type Container = k8s.types.input.core.v1.Container;
type EnvVar = k8s.types.input.core.v1.EnvVar;

/** Ports of SeaweedFS's `weed server`: master, S3 API, filer HTTP, and (SeaweedFS's rule: +10000) their gRPC ports. */
export const BUCKET_PORTS = { master: 9333, masterGrpc: 19333, s3: 8333, filer: 8888, filerGrpc: 18888 } as const;

/** Bucket names: the CDN's static files and the backups, prefixed with the topology's name (as on Docker). */
export function bucketNames(topologyName: string): { static: string; backups: string } {
  return { static: `${topologyName}-static`, backups: `${topologyName}-backups` };
}

/** The keys of the bucket Secret holding the deployment's S3 access and secret key. */
export const BUCKET_KEYS = { access: "accessKey", secret: "secretKey" } as const;

/** Where a sync sidecar records that it is alive: rewritten after every pass without a failure. */
export const HEARTBEAT = "/tmp/heartbeat";

/**
 * The sync sidecars are probed for liveness only (a heartbeat written within the last minute;
 * findutils is in every Debian image): a readiness probe would take nginx or an API pod out of its
 * Service whenever the bucket is unreachable, and the site does not need the bucket to serve.
 */
export const LIVENESS_ONLY_SIDECARS = ["static-sync", "static-publish"] as const;

/** The S3 endpoint and the keys (from the bucket Secret) every static-bucket program reads. */
export function s3Env(endpoint: string, secret: pulumi.Input<string>): EnvVar[] {
  return [
    { name: "S3_ENDPOINT", value: endpoint },
    secretEnv("S3_ACCESS_KEY", secret, BUCKET_KEYS.access),
    secretEnv("S3_SECRET_KEY", secret, BUCKET_KEYS.secret),
  ];
}

/** bucket-init's environment (services/src/main/bucket-init.ts): the buckets it creates over S3 when missing. */
export function bucketInitEnv(endpoint: string, secret: pulumi.Input<string>, buckets: string[]): EnvVar[] {
  return [
    ...s3Env(endpoint, secret),
    { name: "S3_BUCKETS", value: buckets.join(",") },
    { name: "BUCKET_INIT_WAIT_SECONDS", value: "180" },
  ];
}

/**
 * The two sync sidecars, services-image programs speaking only S3 as on Docker: the edge's
 * (static-edge-sync: the bucket mirrored into nginx's static volume) and the API's
 * (static-publisher: what the API writes uploaded into the bucket). Each mounts volume "static".
 */
export function staticSidecars(
  appImage: pulumi.Input<string>,
  endpoint: string,
  secret: pulumi.Input<string>,
  bucket: string,
  size: Size,
) {
  const sidecar = (
    name: (typeof LIVENESS_ONLY_SIDECARS)[number],
    entry: string,
    dirVariable: string,
    mountPath: string,
    readOnly: boolean,
  ): Container => ({
    name,
    image: appImage,
    command: appCommand(entry),
    env: [
      ...s3Env(endpoint, secret),
      { name: "S3_BUCKET", value: bucket },
      { name: dirVariable, value: mountPath },
      { name: "HEARTBEAT_FILE", value: HEARTBEAT },
    ],
    volumeMounts: [{ name: "static", mountPath, readOnly }],
    resources: resources(size),
    // The services image's node user; the static volumes are emptyDirs, writable by any user.
    securityContext: runAsImageUser("app"),
    livenessProbe: {
      exec: { command: ["sh", "-c", `[ -n "$(find ${HEARTBEAT} -mmin -1)" ]`] },
      initialDelaySeconds: 60,
      periodSeconds: 20,
      failureThreshold: 3,
    },
  });
  return {
    edgeSync: sidecar("static-sync", "static-edge-sync", "STATIC_EDGE_DIR", PATHS.staticRoot, false),
    publisher: sidecar("static-publish", "static-publisher", "STATIC_PUBLISH_DIR", PATHS.staticDir, true),
  };
}
