import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { backupServiceEnv, type Addresses, type Topology } from "../topology";
import { NAMES } from "./addresses";
import { envList } from "./app-env";
import { appCommand } from "./api-cluster";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import type { DockerContext } from "./context";

/** Where backups go: the S3 endpoint and bucket on the private network. */
export interface BackupTarget {
  endpoint: string;
  bucket: string;
}

/** Where the backup container keeps backups: its own volume (the image creates the folder for its user). */
export const BACKUP_DIR = "/var/lib/floodgate/backups";

/**
 * The backup service's environment (secrets included, so call it on the secret topology): MariaDB
 * dumps from the last replica, so the primary never pays for them, and Redis snapshots of every node.
 */
export function backupEnv(t: Topology, a: Addresses, target: BackupTarget, keys: { access: string; secret: string }) {
  return envList({
    ...backupServiceEnv(t, a),
    HTTP_PORT: String(t.backups.port),
    // Written to a volume until the S3 store lands; the S3 settings are kept for it.
    BACKUP_DIR: BACKUP_DIR,
    S3_ENDPOINT: target.endpoint,
    S3_BUCKET: target.bucket,
    S3_ACCESS_KEY: keys.access,
    S3_SECRET_KEY: keys.secret,
  });
}

/** Inputs beyond the context. */
export interface BackupsArgs {
  target: BackupTarget;
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * Scheduled backups: a long-running container from the app image (services/src/main/backup.ts)
 * that runs on the topology's cron schedule and prunes by retention.
 */
export class Backups extends pulumi.ComponentResource {
  /** The scheduler container. */
  readonly container: docker.Container;

  constructor(name: string, ctx: DockerContext, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:Backups", name, {}, opts);
    const { bucketAccessKey, bucketSecretKey } = ctx.cfg.secrets;
    const envs = pulumi
      .all([ctx.secretTopology, bucketAccessKey, bucketSecretKey])
      .apply(([s, access, secret]) => backupEnv(s, ctx.addresses, args.target, { access, secret }));
    const volume = new docker.Volume(`${name}-data`, { name: "backups-data" }, { parent: this });
    this.container = new docker.Container(
      `${name}-scheduler`,
      {
        name: NAMES.backups,
        image: ctx.images.app,
        command: appCommand("backup"),
        envs,
        volumes: [{ volumeName: volume.name, containerPath: BACKUP_DIR }],
        networksAdvanced: onNetwork(ctx.network, NAMES.backups),
        healthcheck: httpHealthcheck(ctx.cfg.topology.backups.port, "/health", "node"),
        ...limits("backups", ctx.cfg.topology),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.dependsOn },
    );
    this.registerOutputs({ container: this.container.name });
  }
}
