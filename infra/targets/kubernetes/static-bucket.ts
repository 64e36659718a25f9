import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeployConfig } from "../../deployment";
import type { Topology } from "../../topology";
import { KEEP_CLAIMS } from "./availability";
import { NAMES } from "../../topology";
import { serviceHost, type ClusterDns } from "./addresses";
import { renderS3Identities } from "../../render";
import { appCommand } from "./app-env";
import { BUCKET_KEYS, BUCKET_PORTS, bucketInitEnv, bucketNames, staticSidecars } from "./bucket-scripts";
import type { KubernetesContext } from "./context";
import { clusterServiceSpec, scriptJobSpec } from "./object-specs";
import { clientLabels, dataStorePolicy, podLabels, resources, sizeOf, tcpProbes, volumeClaim } from "./pod-spec";

type Container = k8s.types.input.core.v1.Container;

/** What StaticBucket reads: the cluster's DNS domain, the namespace, the Secrets registry and the deployment's bucket keys, images and storage. */
export interface StaticBucketArgs extends Pick<KubernetesContext, "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images" | "kubernetes">;
  dns: ClusterDns;
}

/**
 * The self-hosted CDN: SeaweedFS (S3 API) on a volume; the API's pods upload into it and nginx's
 * edge serves a synced copy. The job creating the buckets and both sync sidecars are services-image
 * programs speaking only S3, as on Docker (services/src/main/{bucket-init,static-publisher,static-edge-sync}.ts).
 */
export class StaticBucket extends pulumi.ComponentResource {
  /** The sidecar for nginx pods: keeps PATHS.staticRoot (volume "static") in step with the bucket. */
  readonly edgeSync: Container;
  /** The sidecar for API pods: uploads what the API writes to PATHS.staticDir (volume "static"). */
  readonly publisher: Container;
  /** The S3 endpoint inside the cluster. */
  readonly s3Endpoint: string;
  /** The Job that created the buckets: the API (which publishes into one) waits for it. */
  readonly ready: pulumi.Resource;

  constructor(name: string, args: StaticBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:StaticBucket", name, {}, opts);
    const { cfg, namespace } = args;
    const t: Topology = cfg.topology;
    const host = serviceHost(NAMES.bucket, args.dns);
    const buckets = bucketNames(t.name);
    this.s3Endpoint = `http://${host}:${BUCKET_PORTS.s3}`;
    const secret = args.podSecrets.secret(
      `${name}-secrets`,
      "bucket-secrets",
      pulumi
        .all([cfg.secrets.bucketAccessKey, cfg.secrets.bucketSecretKey])
        // The S3 identity as a file, so the keys appear in no process argument; admin on the two
        // buckets alone, which bucket-init creates over S3. The keys themselves for the programs.
        .apply(([accessKey, secretKey]) => ({
          "s3.json": renderS3Identities({ accessKey, secretKey }, [buckets.static, buckets.backups]),
          [BUCKET_KEYS.access]: accessKey,
          [BUCKET_KEYS.secret]: secretKey,
        })),
      { parent: this },
    );
    const selector = { "app.kubernetes.io/name": NAMES.bucket };
    // Kubernetes port names are lower case.
    const portNames = Object.fromEntries(Object.entries(BUCKET_PORTS).map(([n, p]) => [n.toLowerCase(), p]));
    const store = new k8s.apps.v1.StatefulSet(
      `${name}-store`,
      {
        metadata: { name: NAMES.bucket, namespace },
        spec: {
          serviceName: NAMES.bucket,
          replicas: 1,
          selector: { matchLabels: selector },
          template: args.podSecrets.template({
            metadata: { labels: podLabels(NAMES.bucket) },
            spec: {
              // SeaweedFS's upstream image and user (not built here): no ids of ours to pin.
              containers: [
                {
                  name: "seaweedfs",
                  image: cfg.images.objectStore,
                  args: [
                    "server",
                    "-dir=/data",
                    "-ip.bind=0.0.0.0",
                    "-filer",
                    "-s3",
                    `-s3.port=${BUCKET_PORTS.s3}`,
                    "-s3.config=/etc/seaweedfs/s3.json",
                    "-master.volumeSizeLimitMB=1024",
                  ],
                  ports: Object.entries(portNames).map(([n, port]) => ({ name: n, containerPort: port })),
                  volumeMounts: [
                    { name: "data", mountPath: "/data" },
                    { name: "s3", mountPath: "/etc/seaweedfs", readOnly: true },
                  ],
                  resources: resources(sizeOf(t, "bucket")),
                  // Root, as its image runs: Pod Security "baseline", the one such pod (pod-security.ts).
                  securityContext: { allowPrivilegeEscalation: false, seccompProfile: { type: "RuntimeDefault" } },
                  ...tcpProbes(BUCKET_PORTS.s3),
                },
              ],
              volumes: [
                {
                  name: "s3",
                  secret: { secretName: secret.metadata.name, items: [{ key: "s3.json", path: "s3.json" }] },
                },
              ],
            },
          }),
          volumeClaimTemplates: [volumeClaim("data", cfg.kubernetes.storageClass, cfg.kubernetes.volumeGi.bucket)],
          persistentVolumeClaimRetentionPolicy: KEEP_CLAIMS,
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: { name: NAMES.bucket, namespace }, spec: clusterServiceSpec(NAMES.bucket, portNames) },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-policy`,
      { metadata: { name: "bucket", namespace }, spec: dataStorePolicy("bucket", selector) },
      { parent: this },
    );
    const sidecars = staticSidecars(
      cfg.images.app,
      this.s3Endpoint,
      secret.metadata.name,
      buckets.static,
      sizeOf(t, "sidecar"),
    );
    this.edgeSync = sidecars.edgeSync;
    this.publisher = sidecars.publisher;
    this.ready = new k8s.batch.v1.Job(
      `${name}-init`,
      {
        metadata: { name: "bucket-init", namespace },
        spec: args.podSecrets.spec(
          scriptJobSpec({
            image: cfg.images.app,
            imageUser: "app",
            script: `exec ${appCommand("bucket-init").join(" ")}`,
            env: bucketInitEnv(this.s3Endpoint, secret.metadata.name, [buckets.static, buckets.backups]),
            labels: clientLabels("bucket"),
            size: sizeOf(t, "job"),
          }),
        ),
      },
      { parent: this, dependsOn: [store] },
    );
    this.registerOutputs({
      s3Endpoint: this.s3Endpoint,
      edgeSync: this.edgeSync,
      publisher: this.publisher,
      ready: this.ready,
    });
  }
}
