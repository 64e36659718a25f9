import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderS3Identities } from "../../render";
import type { DeployConfig } from "../../deployment";
import { NAMES } from "../../topology";
import { appCommand } from "./api-cluster";
import {
  BUCKET_PORTS,
  bucketInitEnv,
  bucketNames,
  edgeSyncEnv,
  HEARTBEAT_CHECK,
  publisherEnv,
  S3_IDENTITIES_FILE,
  type BucketAccess,
} from "./bucket-scripts";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { oneShotJob } from "./one-shot";

/** What StaticBucket reads: the network, the topology's name and limits, the bucket keys and two images. */
export interface StaticBucketArgs extends Pick<DockerContext, "network"> {
  cfg: Pick<DeployConfig, "topology" | "secrets">;
  images: Pick<DockerContext["images"], "objectStore" | "app">;
}

/**
 * The self-hosted CDN's origin: SeaweedFS (S3 API, private network only) holding the static and
 * backups buckets. The API writes to a publish volume that a sidecar uploads into the bucket; a
 * second sidecar mirrors the bucket into the edge volume nginx serves. The job creating the
 * buckets and both sidecars are services-image programs speaking only S3 (services/src/static-sync/).
 */
export class StaticBucket extends pulumi.ComponentResource {
  /** S3 endpoint on the private network. */
  readonly endpoint: string;
  /** Bucket names. */
  readonly buckets: { static: string; backups: string };
  /** The volume's name where the catalog publisher (the API) writes its files. */
  readonly publishVolume: pulumi.Output<string>;
  /** The volume's name that the nginx edge serves under /static/: a mirror of the bucket. */
  readonly edgeVolume: pulumi.Output<string>;
  /** The job that created the buckets, once it succeeded: writers wait for it. */
  readonly ready: pulumi.Output<pulumi.Resource>;

  constructor(name: string, args: StaticBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:StaticBucket", name, {}, opts);
    const t = args.cfg.topology;
    this.buckets = bucketNames(t.name);
    const endpoint = `http://${NAMES.bucket}:${BUCKET_PORTS.s3}`;
    this.endpoint = endpoint;
    const buckets = [this.buckets.static, this.buckets.backups];
    // Secret, as the keys are: every environment and file rendered from it stays a secret.
    const access = pulumi
      .all([args.cfg.secrets.bucketAccessKey, args.cfg.secrets.bucketSecretKey])
      .apply(([accessKey, secretKey]): BucketAccess => ({ endpoint, accessKey, secretKey }));
    const volume = (v: string) => new docker.Volume(`${name}-${v}`, { name: v }, { parent: this });
    const publishVolume = volume("static-publish");
    const edgeVolume = volume("static-edge");
    this.publishVolume = publishVolume.name;
    this.edgeVolume = edgeVolume.name;
    const container = (
      container: string,
      spec: Omit<docker.ContainerArgs, "name" | "networksAdvanced">,
      dependsOn: pulumi.Input<pulumi.Resource>[] = [],
    ) =>
      new docker.Container(
        `${name}-${container}`,
        { name: container, networksAdvanced: onNetwork(args.network, container), ...limits("bucket", t), ...spec },
        { parent: this, deleteBeforeReplace: true, dependsOn },
      );
    const store = container(NAMES.bucket, {
      image: args.images.objectStore,
      command: [
        "server",
        "-dir=/data",
        `-ip=${NAMES.bucket}`,
        "-ip.bind=0.0.0.0",
        "-s3",
        `-s3.port=${BUCKET_PORTS.s3}`,
        `-s3.config=${S3_IDENTITIES_FILE}`,
      ],
      // The keys in a file, never in argv; admin on the two buckets, which bucket-init creates over S3.
      uploads: [{ file: S3_IDENTITIES_FILE, content: access.apply((a) => renderS3Identities(a, buckets)) }],
      volumes: [{ volumeName: volume("bucket-data").name, containerPath: "/data" }],
      healthcheck: healthcheck(
        `wget -q -O /dev/null http://127.0.0.1:${BUCKET_PORTS.master}/cluster/status || exit 1`,
        20,
      ),
      ...LONG_RUNNING,
    });
    this.ready = oneShotJob(
      `${name}-bucket-init`,
      {
        name: "bucket-init",
        image: args.images.app,
        command: appCommand("bucket-init"),
        envs: access.apply((a) => bucketInitEnv(a, buckets)),
        networksAdvanced: onNetwork(args.network, "bucket-init"),
        ...limits("job", t),
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: [store] },
      Object.values(args.cfg.secrets),
    ).succeeded;
    container(
      "static-publisher",
      {
        image: args.images.app,
        command: appCommand("static-publisher"),
        envs: access.apply((a) => publisherEnv(a, this.buckets.static)),
        volumes: [{ volumeName: this.publishVolume, containerPath: PATHS.staticDir, readOnly: true }],
        healthcheck: healthcheck(HEARTBEAT_CHECK),
        ...LONG_RUNNING,
      },
      [this.ready],
    );
    container(
      "static-edge-sync",
      {
        image: args.images.app,
        command: appCommand("static-edge-sync"),
        envs: access.apply((a) => edgeSyncEnv(a, this.buckets.static)),
        // Root: the edge volume is created root-owned (the services image has no folder at
        // PATHS.staticRoot for its user, nor has nginx's), and the mirror writes into it.
        user: "root",
        volumes: [{ volumeName: this.edgeVolume, containerPath: PATHS.staticRoot }],
        healthcheck: healthcheck(HEARTBEAT_CHECK),
        ...LONG_RUNNING,
      },
      [this.ready],
    );
    this.registerOutputs({
      endpoint: this.endpoint,
      buckets: this.buckets,
      publishVolume: this.publishVolume,
      edgeVolume: this.edgeVolume,
      ready: this.ready,
    });
  }
}
