import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { backupServiceEnv, type Addresses, type Topology, NAMES } from "../../topology";
import { envList } from "./app-env";
import { appCommand } from "./api-cluster";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import type { DeployConfig } from "../../deployment";
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

/** What Backups reads: the addresses it backs up, the network, the secrets, the app image, and where it writes. */
export interface BackupsArgs extends Pick<DockerContext, "addresses" | "network" | "secretTopology"> {
  cfg: Pick<DeployConfig, "topology" | "secrets">;
  images: Pick<DockerContext["images"], "app">;
  /** The bucket the backups go to. */
  target: BackupTarget;
  /** What must run first: the bucket's job and the MariaDB servers it dumps. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * Scheduled backups: a long-running container from the app image (services/src/main/backup.ts)
 * that runs on the topology's cron schedule, uploads into the backups bucket and prunes there by
 * retention. It keeps nothing of its own, so it has no volume.
 */
export class Backups extends pulumi.ComponentResource {
  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:Backups", name, {}, opts);
    const { bucketAccessKey, bucketSecretKey } = args.cfg.secrets;
    const envs = pulumi
      .all([args.secretTopology, bucketAccessKey, bucketSecretKey])
      .apply(([s, access, secret]) => backupEnv(s, args.addresses, args.target, { access, secret }));
    new docker.Container(
      `${name}-scheduler`,
      {
        name: NAMES.backups,
        image: args.images.app,
        command: appCommand("backup"),
        envs,
        networksAdvanced: onNetwork(args.network, NAMES.backups),
        healthcheck: httpHealthcheck(args.cfg.topology.backups.port, "/health", 30),
        ...limits("backups", args.cfg.topology),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.dependsOn },
    );
    // Nothing depends on a part of it: the Redis rotation's finishing job waits for the whole component.
    this.registerOutputs({});
  }
}
