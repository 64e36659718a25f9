import path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { STACK_FILE_PATH, type StackFileInput, type StackProcess } from "../stack-file";
import { IMAGE_USERS } from "../../config";
import { secretValues, withSecrets, type DeployConfig } from "../../deployment";
import {
  NAMES,
  WORKER_KINDS,
  apiName,
  apiSlots,
  mysqlServerNames,
  redisName,
  redisNodeCount,
  workerKindName,
  workerName,
  type Addresses,
  type Topology,
} from "../../topology";
import { redisPod, redisShardName } from "./addresses";
import { backupEnv } from "./backups";
import type { KubernetesContext } from "./context";
import { runAsImageUser, volumesOwnedBy } from "./image-users";
import { MARIADB_DATADIR_IN_VOLUME } from "./mounted-files";
import { clientLabels, podLabels, resources, sizeOf } from "./pod-spec";

/** The name of the runbooks Deployment, its ServiceAccount, Role and RoleBinding. */
export const RUNBOOKS = "runbooks";
/** The Secret holding the runbook stack file, and the file's key in it. */
export const RUNBOOK_STACK_SECRET = { name: "runbook-stack", key: path.basename(STACK_FILE_PATH) } as const;

/** What runbooks may do through the API: read pods and delete a crashed one, scale StatefulSets, find Services. */
export const RUNBOOK_ROLE_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
  // create: mysql-failover's one-shot pods, which mount the MariaDB servers' claims.
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  { apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "list"] },
  { apiGroups: ["apps"], resources: ["statefulsets/scale"], verbs: ["get", "patch", "update"] },
  { apiGroups: [""], resources: ["services"], verbs: ["get", "list"] },
];

/** Pod `i` of StatefulSet `set` is the process `name(i)` (names.ts, 0-based). */
const ordinals = (set: string, count: number, name: (i: number) => string): StackProcess[] =>
  Array.from({ length: count }, (_, i) => ({ name: name(i), statefulSet: set, ordinal: i }));

/** The PersistentVolumeClaim of a MariaDB server's data: claim template "data" of its one-pod StatefulSet. */
export const mysqlClaimName = (server: string) => `data-${server}-0`;

/**
 * Every StatefulSet pod under its local-stack name (1-based) → pod ordinal (0-based), API slots up to
 * the autoscaler's maximum; MariaDB servers with their data's claim (mysql-failover moves data).
 */
export function kubernetesProcesses(t: Topology): StackProcess[] {
  const mysql = (server: string): StackProcess => ({
    name: server,
    statefulSet: server,
    ordinal: 0,
    volume: mysqlClaimName(server),
  });
  return [
    ...mysqlServerNames(t).map(mysql),
    // redis-N is address N: pod `ordinal` of its shard's StatefulSet.
    ...Array.from({ length: redisNodeCount(t) }, (_, i): StackProcess => {
      const { shard, ordinal } = redisPod(t, i);
      return { name: redisName(i), statefulSet: redisShardName(shard), ordinal };
    }),
    ...WORKER_KINDS.flatMap((kind) =>
      ordinals(workerKindName(kind), t.workers[kind].processes, (i) => workerName(kind, i)),
    ),
    ...ordinals(NAMES.api, apiSlots(t), apiName),
  ];
}

/** The runbook stack file of a Kubernetes deployment (pure; `t` and `backupEnv` carry the real secrets). */
export function kubernetesStackFile(
  t: Topology,
  addresses: Addresses,
  namespace: string,
  mysqlRootPassword: string,
  backupEnv: Record<string, string>,
  image?: string,
): StackFileInput {
  return {
    target: "k8s",
    topology: t,
    addresses,
    mysqlAdmin: { user: "root", password: mysqlRootPassword },
    processes: kubernetesProcesses(t),
    kubernetes: {
      namespace,
      image,
      // The runbooks image carries neither infra/config.ts nor this folder: mysql-failover learns here
      // whose data the claims hold and where in them.
      mariadbData: { uid: IMAGE_USERS.mariadb.uid, gid: IMAGE_USERS.mariadb.gid, dir: MARIADB_DATADIR_IN_VOLUME },
    },
    backupEnv,
  };
}

/** What Runbooks reads: the addresses and secrets it writes into the stack file, the namespace, the Secrets registry, the app image and the bucket's endpoint. */
export interface RunbooksArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images" | "kubernetes">;
  /** The S3 endpoint of the backups' bucket (StaticBucket.s3Endpoint), for backup-now and restore. */
  s3Endpoint: string;
}

/**
 * The runbooks pod: an idle pod from the app image that on-call `kubectl exec`s into to run a
 * runbook with `--target k8s`. It reads the stack file from a Secret, reaches every store (it
 * carries every client label) and scales StatefulSets through its own narrow Role.
 */
export class Runbooks extends pulumi.ComponentResource {
  constructor(name: string, args: RunbooksArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:Runbooks", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const secret = args.podSecrets.secret(
      `${name}-stack`,
      RUNBOOK_STACK_SECRET.name,
      secretValues(cfg.secrets).apply((values) => {
        const real = withSecrets(t, values);
        const env = {
          ...backupEnv(real, a, args.s3Endpoint),
          S3_ACCESS_KEY: values.bucketAccessKey,
          S3_SECRET_KEY: values.bucketSecretKey,
        };
        const file = kubernetesStackFile(
          real,
          a,
          cfg.kubernetes.namespace,
          values.mysqlRootPassword,
          env,
          cfg.images.app,
        );
        return { [RUNBOOK_STACK_SECRET.key]: JSON.stringify(file, null, 2) };
      }),
      { parent: this },
    );
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-account`,
      { metadata: { name: RUNBOOKS, namespace } },
      { parent: this },
    );
    const role = new k8s.rbac.v1.Role(
      `${name}-role`,
      { metadata: { name: RUNBOOKS, namespace }, rules: RUNBOOK_ROLE_RULES },
      { parent: this },
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-binding`,
      {
        metadata: { name: RUNBOOKS, namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace }],
      },
      { parent: this },
    );
    // Ready and alive while the stack file is readable: the pod does nothing else.
    const fileCheck = { exec: { command: ["test", "-r", STACK_FILE_PATH] } };
    const labels = podLabels(RUNBOOKS);
    new k8s.apps.v1.Deployment(
      `${name}-pod`,
      {
        metadata: { name: RUNBOOKS, namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { "app.kubernetes.io/name": RUNBOOKS } },
          template: args.podSecrets.template({
            metadata: { labels: { ...labels, ...clientLabels("mysql", "redis", "rabbitmq", "bucket") } },
            spec: {
              serviceAccountName: account.metadata.name,
              // The image's own user (node); its group (fsGroup) lets it read the 0440 stack file.
              securityContext: volumesOwnedBy("app"),
              containers: [
                {
                  name: RUNBOOKS,
                  image: cfg.images.app,
                  // Idle: runbooks run through `kubectl exec`, not as the container's process.
                  command: ["node", "-e", "setInterval(() => {}, 1 << 30)"],
                  resources: resources(sizeOf(t, "job")),
                  securityContext: runAsImageUser("app"),
                  readinessProbe: { ...fileCheck, periodSeconds: 10 },
                  livenessProbe: { ...fileCheck, periodSeconds: 30, failureThreshold: 3 },
                  volumeMounts: [{ name: "stack", mountPath: path.dirname(STACK_FILE_PATH), readOnly: true }],
                },
              ],
              // A directory mount (not subPath), so a `pulumi up` that changes the file reaches the pod.
              volumes: [
                {
                  name: "stack",
                  secret: {
                    secretName: secret.metadata.name,
                    defaultMode: 0o440,
                    items: [{ key: RUNBOOK_STACK_SECRET.key, path: RUNBOOK_STACK_SECRET.key }],
                  },
                },
              ],
            },
          }),
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
