import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { backupServiceEnv, type Addresses, type Topology } from "../topology";
import { appCommand, podEnv } from "./app-env";
import type { KubernetesContext } from "./context";
import { clientLabels, podLabels, resources, sizeOf } from "./pod-spec";
import { bucketNames } from "./bucket-scripts";

/** What gets backed up; the argument `services/src/main/backup.ts` takes. */
export type BackupKind = "mysql" | "redis";

/** Scratch space for a backup in progress and a drill's download: an emptyDir, gone with the pod. */
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
    // Read by every run (a `--once` run serves nothing, but the configuration is one for both).
    HTTP_PORT: String(t.backups.port),
    BACKUP_WORK_DIR,
    S3_ENDPOINT: s3Endpoint,
    S3_BUCKET: bucketNames(t.name).backups,
  };
}

/**
 * Backups: a CronJob per kind on the topology's schedule. Each runs `backup.ts` once from the app
 * image (`--once <kind>`), where Docker keeps it running on the same schedule.
 */
export class Backups extends pulumi.ComponentResource {
  constructor(name: string, ctx: KubernetesContext & { s3Endpoint: string }, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:Backups", name, {}, opts);
    const { cfg, addresses: a, namespace } = ctx;
    const t = cfg.topology;
    const secretName = "backup-secrets";
    const { env, secretKeys } = podEnv(t, (tt) => backupEnv(tt, a, ctx.s3Endpoint), secretName);
    const secret = new k8s.core.v1.Secret(
      `${name}-secrets`,
      {
        metadata: { name: secretName, namespace },
        stringData: Object.fromEntries(
          [...secretKeys, "bucketAccessKey" as const, "bucketSecretKey" as const].map((k) => [k, cfg.secrets[k]]),
        ),
      },
      { parent: this },
    );
    const bucketKey = (name: string, key: string) => ({
      name,
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key } },
    });
    for (const kind of ["mysql", "redis"] as const) {
      new k8s.batch.v1.CronJob(
        `${name}-${kind}`,
        {
          metadata: { name: `backup-${kind}`, namespace },
          spec: {
            schedule: t.backups.schedule,
            // A backup still running when the next is due is left to finish; two at once would only compete.
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
              spec: {
                backoffLimit: 2,
                template: {
                  metadata: { labels: { ...podLabels(`backup-${kind}`), ...clientLabels(kind, "bucket") } },
                  spec: {
                    restartPolicy: "OnFailure",
                    containers: [
                      {
                        name: "backup",
                        image: cfg.images.app,
                        command: [...appCommand("backup"), "--once", kind],
                        env: [
                          ...env,
                          bucketKey("S3_ACCESS_KEY", "bucketAccessKey"),
                          bucketKey("S3_SECRET_KEY", "bucketSecretKey"),
                        ],
                        volumeMounts: [{ name: "work", mountPath: BACKUP_WORK_DIR }],
                        resources: resources(sizeOf(t, "job")),
                      },
                    ],
                    volumes: [{ name: "work", emptyDir: {} }],
                  },
                },
              },
            },
          },
        },
        { parent: this },
      );
    }
    this.registerOutputs({ schedule: t.backups.schedule });
  }
}
