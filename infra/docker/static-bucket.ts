import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { NAMES } from "./addresses";
import {
  BUCKET_PORTS,
  bucketInitScript,
  bucketNames,
  edgeSyncScript,
  HEARTBEAT,
  publisherScript,
} from "./bucket-scripts";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { oneShotJob } from "./one-shot";

/**
 * The self-hosted CDN's origin: SeaweedFS (S3 API, private network only) holding the static and
 * backups buckets. The API writes to a publish volume that a sidecar uploads into the bucket; a
 * second sidecar mirrors the bucket into the edge volume nginx serves.
 */
export class StaticBucket extends pulumi.ComponentResource {
  /** S3 endpoint on the private network. */
  readonly endpoint: string;
  /** Bucket names. */
  readonly buckets: { static: string; backups: string };
  /** Where the catalog publisher (the API) writes its files. */
  readonly publishVolume: docker.Volume;
  /** What the nginx edge serves under /static/: a mirror of the bucket. */
  readonly edgeVolume: docker.Volume;
  /** The job that created the buckets, once it succeeded: writers wait for it. */
  readonly ready: pulumi.Output<pulumi.Resource>;

  constructor(name: string, ctx: DockerContext, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:StaticBucket", name, {}, opts);
    const t = ctx.cfg.topology;
    this.buckets = bucketNames(t.name);
    this.endpoint = `http://${NAMES.bucket}:${BUCKET_PORTS.s3}`;
    const volume = (v: string) => new docker.Volume(`${name}-${v}`, { name: v }, { parent: this });
    this.publishVolume = volume("static-publish");
    this.edgeVolume = volume("static-edge");
    const container = (
      container: string,
      args: Omit<docker.ContainerArgs, "name" | "image" | "networksAdvanced">,
      dependsOn: pulumi.Input<pulumi.Resource>[] = [],
    ) =>
      new docker.Container(
        `${name}-${container}`,
        {
          name: container,
          image: ctx.images.objectStore,
          networksAdvanced: onNetwork(ctx.network, container),
          ...limits("bucket", t),
          ...args,
        },
        { parent: this, deleteBeforeReplace: true, dependsOn },
      );
    const store = container(NAMES.bucket, {
      command: [
        "server",
        "-dir=/data",
        `-ip=${NAMES.bucket}`,
        "-ip.bind=0.0.0.0",
        "-s3",
        `-s3.port=${BUCKET_PORTS.s3}`,
      ],
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
        image: ctx.images.objectStore,
        networksAdvanced: onNetwork(ctx.network, "bucket-init"),
        ...limits("bucket", t),
        envs: [
          pulumi.interpolate`BUCKET_ACCESS_KEY=${ctx.cfg.secrets.bucketAccessKey}`,
          pulumi.interpolate`BUCKET_SECRET_KEY=${ctx.cfg.secrets.bucketSecretKey}`,
        ],
        entrypoints: ["sh", "-c"],
        command: [bucketInitScript([this.buckets.static, this.buckets.backups])],
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: [store] },
      Object.values(ctx.cfg.secrets),
    ).succeeded;
    container(
      "static-publisher",
      {
        entrypoints: ["sh", "-c"],
        command: [publisherScript(this.buckets.static)],
        volumes: [{ volumeName: this.publishVolume.name, containerPath: PATHS.staticDir, readOnly: true }],
        healthcheck: healthcheck(`[ -n "$(find ${HEARTBEAT} -mmin -1)" ] || exit 1`),
        ...LONG_RUNNING,
      },
      [this.ready],
    );
    container(
      "static-edge-sync",
      {
        entrypoints: ["sh", "-c"],
        command: [edgeSyncScript(this.buckets.static)],
        volumes: [{ volumeName: this.edgeVolume.name, containerPath: PATHS.staticRoot }],
        healthcheck: healthcheck("pgrep -f 'weed filer.backup' >/dev/null || exit 1"),
        ...LONG_RUNNING,
      },
      [this.ready],
    );
    this.registerOutputs({
      endpoint: this.endpoint,
      publishVolume: this.publishVolume.name,
      edgeVolume: this.edgeVolume.name,
    });
  }
}
