import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeployConfig } from "../../deployment";
import { backupServiceEnv, type Addresses, type Topology } from "../../topology";
import { appCommand, podEnv } from "./app-env";
import type { KubernetesContext } from "./context";
import { runAsImageUser } from "./image-users";
import { clusterServiceSpec } from "./object-specs";
import { clientLabels, httpProbes, podLabels, resources, sizeOf } from "./pod-spec";
import { bucketNames } from "./bucket-scripts";

/** The backup service's Deployment and Service. */
export const BACKUPS = "backups";

/** Scratch space for a backup in progress and a drill's download and server: an emptyDir, gone with the pod. */
export const BACKUP_WORK_DIR = "/var/lib/floodgate/backups";

/**
 * The environment of `backup.ts`, the same variables the Docker target sets: MariaDB is dumped from
 * the last replica so the primary never pays for it; Redis snapshots come from every node;
 * everything goes to the backups bucket over S3 and is pruned there. The S3 keys are added as
 * references into the Secret, never here.
 */
export function backupEnv(t: Topology, a: Addresses, s3Endpoint: string): Record<string, string> {
  return {
    ...backupServiceEnv(t, a),
    HTTP_PORT: String(t.backups.port),
    BACKUP_WORK_DIR,
    // Every backup is restored into a scratch MariaDB in the pod and verified (RTO, RPO).
    BACKUP_RESTORE_DRILL: "after-each-backup",
    S3_ENDPOINT: s3Endpoint,
    S3_BUCKET: bucketNames(t.name).backups,
  };
}

/** What Backups reads: the addresses it backs up, the namespace, the Secrets registry, the deployment's topology, secrets and app image, and the bucket's endpoint. */
export interface BackupsArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images">;
  /** The S3 endpoint of the bucket the backups go to (StaticBucket.s3Endpoint). */
  s3Endpoint: string;
}

/**
 * Backups: the backup service (services/src/main/backup.ts), one pod running the topology's cron
 * schedule like the Docker target's container — each backup uploaded into the bucket and pruned
 * there, then restored into a scratch MariaDB and verified — with /metrics scraped by Prometheus
 * (last success, size, duration, RTO and RPO: BackupTooOld and RestoreDrillFailed). One replica and
 * the Recreate strategy: two schedulers would back up twice.
 */
export class Backups extends pulumi.ComponentResource {
  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:Backups", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const secretName = "backup-secrets";
    const { env, secretKeys } = podEnv(t, (tt) => backupEnv(tt, a, args.s3Endpoint), secretName);
    const secret = args.podSecrets.secret(
      `${name}-secrets`,
      secretName,
      Object.fromEntries(
        [...secretKeys, "bucketAccessKey" as const, "bucketSecretKey" as const].map((k) => [k, cfg.secrets[k]]),
      ),
      { parent: this },
    );
    const bucketKey = (name: string, key: string) => ({
      name,
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key } },
    });
    const port = t.backups.port;
    new k8s.apps.v1.Deployment(
      `${name}-service`,
      {
        metadata: { name: BACKUPS, namespace },
        spec: {
          replicas: 1,
          strategy: { type: "Recreate" },
          selector: { matchLabels: { "app.kubernetes.io/name": BACKUPS } },
          template: args.podSecrets.template({
            metadata: { labels: { ...podLabels(BACKUPS), ...clientLabels("mysql", "redis", "bucket") } },
            spec: {
              // A backup in progress finishes first (the replica's applier is stopped meanwhile).
              terminationGracePeriodSeconds: 300,
              containers: [
                {
                  name: "backup",
                  image: cfg.images.app,
                  command: appCommand("backup"),
                  env: [
                    ...env,
                    bucketKey("S3_ACCESS_KEY", "bucketAccessKey"),
                    bucketKey("S3_SECRET_KEY", "bucketSecretKey"),
                  ],
                  ports: [{ name: "http", containerPort: port }],
                  volumeMounts: [{ name: "work", mountPath: BACKUP_WORK_DIR }],
                  resources: resources(sizeOf(t, "backups")),
                  securityContext: runAsImageUser("app"),
                  ...httpProbes("/health", port),
                },
              ],
              volumes: [{ name: "work", emptyDir: {} }],
            },
          }),
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-metrics`,
      { metadata: { name: BACKUPS, namespace }, spec: clusterServiceSpec(BACKUPS, { http: port }) },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
