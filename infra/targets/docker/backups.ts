import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { backupServiceEnv, type Addresses, type Topology, NAMES } from "../../topology";
import { envList } from "./app-env";
import { appCommand } from "./api-cluster";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import type { DockerContext } from "./context";

/** Where backups go: the S3 endpoint and bucket on the private network. */
export interface BackupTarget {
  endpoint: string;
  bucket: string;
}

/**
 * Scratch space for a backup in progress (uploaded, then deleted) and for a drill's download: the
 * folder the image creates for its non-root user (Dockerfile). Backups themselves live in the bucket.
 */
export const BACKUP_WORK_DIR = "/var/lib/floodgate/backups";

/**
 * The backup service's environment (secrets included, so call it on the secret topology): MariaDB
 * dumps from the last replica, so the primary never pays for them, Redis snapshots of every node,
 * all into the backups bucket over S3.
 */
export function backupEnv(t: Topology, a: Addresses, target: BackupTarget, keys: { access: string; secret: string }) {
  return envList({
    ...backupServiceEnv(t, a),
    HTTP_PORT: String(t.backups.port),
    BACKUP_WORK_DIR,
    // Every backup is restored into a scratch MariaDB inside the container and verified, exporting
    // RTO and RPO (RestoreDrillFailed); the image carries mariadb-server-core for it.
    BACKUP_RESTORE_DRILL: "after-each-backup",
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
 * that runs on the topology's cron schedule, uploads into the backups bucket and prunes there by
 * retention. It keeps nothing of its own, so it has no volume.
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
    this.container = new docker.Container(
      `${name}-scheduler`,
      {
        name: NAMES.backups,
        image: ctx.images.app,
        command: appCommand("backup"),
        envs,
        networksAdvanced: onNetwork(ctx.network, NAMES.backups),
        healthcheck: httpHealthcheck(ctx.cfg.topology.backups.port, "/health", 30),
        ...limits("backups", ctx.cfg.topology),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.dependsOn },
    );
    this.registerOutputs({ container: this.container.name });
  }
}
