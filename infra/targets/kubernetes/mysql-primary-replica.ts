import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { secretValues, withSecrets } from "../../deployment";
import {
  CREDENTIALS_DIR,
  CREDENTIALS_VOLUME,
  followsNobody,
  mysqlJobScript,
  renderBootstrapSql,
  renderReplicaSetupSql,
  type MysqlJobSteps,
} from "../../render";
import type { DeployConfig } from "../../deployment";
import { NAMES, mysqlReplicaName, type Addresses } from "../../topology";
import type { KubernetesContext } from "./context";
import { volumesOwnedBy } from "./image-users";
import { disruptionBudget, keepOnDestroy } from "./availability";
import { MYSQL_GROUP, MysqlServer, type MysqlServerArgs } from "./mysql-server";
import { scriptJobSpec, secretEnv } from "./object-specs";
import { clientLabels, dataStorePolicy, sizeOf, volumeClaim } from "./pod-spec";

/** Users are created for any client host: pod addresses change, so the NetworkPolicy decides who connects. */
export const MYSQL_CLIENT_HOST = "%";

/** What MysqlPrimaryReplica reads: the MariaDB addresses, the namespace, the Secrets registry and the deployment's secrets, image and storage. */
export interface MysqlPrimaryReplicaArgs extends Pick<KubernetesContext, "namespace" | "podSecrets"> {
  addresses: Pick<Addresses, "mysqlPrimary" | "mysqlReplicas">;
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images" | "kubernetes">;
}

/**
 * The MariaDB primary and its replicas, the users from renderBootstrapSql, replication set up by a Job
 * per replica — the same job scripts as on Docker (infra/render/mysql-jobs.ts): nothing waits
 * forever, and a rotated password (root's included) is applied in place.
 */
export class MysqlPrimaryReplica extends pulumi.ComponentResource {
  /** The Jobs every client waits for: the bootstrap (users, schema) and each replica's setup. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: MysqlPrimaryReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:MysqlPrimaryReplica", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const secret = args.podSecrets.secret(
      `${name}-secrets`,
      "mysql-secrets",
      secretValues(cfg.secrets).apply((values) => {
        const real = withSecrets(t, values);
        return {
          rootPassword: values.mysqlRootPassword,
          replicationPassword: values.mysqlReplicationPassword,
          "bootstrap.sql": renderBootstrapSql(real, { clientHost: MYSQL_CLIENT_HOST }),
          "replica-setup.sql": renderReplicaSetupSql(real, { primary: a.mysqlPrimary }),
        };
      }),
      { parent: this },
    );
    const server = (s: Pick<MysqlServerArgs, "server" | "role" | "address">, serverId: number) =>
      new MysqlServer(
        `${name}-${s.server}`,
        { cfg, namespace, podSecrets: args.podSecrets, ...s, serverId, rootSecret: secret.metadata.name },
        { parent: this },
      );
    const primary = server({ server: NAMES.mysqlPrimary, role: "primary", address: a.mysqlPrimary }, 1);
    const replicas = a.mysqlReplicas.map((address, i) => ({
      address,
      server: server({ server: mysqlReplicaName(i + 1), role: "replica", address }, i + 2),
    }));
    // The root password the bootstrap Job last applied (and the one before), for the next rotation:
    // the image applies MARIADB_ROOT_PASSWORD only when it initialises an empty datadir, so after a
    // rotation the server still has the old one until the Job logs in with it and changes it in
    // place. A claim, as on Docker a volume. Not awaited: with a WaitForFirstConsumer StorageClass it
    // binds only once the Job's pod mounts it.
    const credentials = new k8s.core.v1.PersistentVolumeClaim(
      `${name}-credentials`,
      {
        ...volumeClaim(CREDENTIALS_VOLUME, cfg.kubernetes.storageClass, 1),
        metadata: { name: CREDENTIALS_VOLUME, namespace, annotations: { "pulumi.com/skipAwait": "true" } },
      },
      { parent: this, ...keepOnDestroy(cfg) },
    );
    const job = (
      jobName: string,
      sqlFile: string,
      steps: Omit<MysqlJobSteps, "sqlFile">,
      dependsOn: pulumi.Resource[],
    ) =>
      new k8s.batch.v1.Job(
        `${name}-${jobName}`,
        {
          metadata: { name: jobName, namespace },
          spec: args.podSecrets.spec(
            scriptJobSpec({
              image: cfg.images.mariadb,
              imageUser: "mariadb",
              script: mysqlJobScript({ ...steps, sqlFile: `/sql/${sqlFile}`, credentialsDir: CREDENTIALS_DIR }),
              // The client reads the passwords from the environment: never in arguments.
              env: [
                secretEnv("MYSQL_PWD", secret.metadata.name, "rootPassword"),
                ...(steps.otherwiseRepointReplication
                  ? [
                      { name: "REPLICATION_USER", value: t.mysql.users.replication.name },
                      secretEnv("REPLICATION_PASSWORD", secret.metadata.name, "replicationPassword"),
                    ]
                  : []),
              ],
              volumeMounts: [
                { name: "sql", mountPath: "/sql", readOnly: true },
                { name: "credentials", mountPath: CREDENTIALS_DIR },
              ],
              // Only the SQL file: the passwords reach the client through the environment alone.
              volumes: [
                { name: "sql", secret: { secretName: secret.metadata.name, items: [{ key: sqlFile, path: sqlFile }] } },
                { name: "credentials", persistentVolumeClaim: { claimName: credentials.metadata.name } },
              ],
              // The claim is written by the image's mysql user.
              podSecurityContext: volumesOwnedBy("mariadb"),
              labels: clientLabels("mysql"),
              size: sizeOf(t, "job"),
            }),
          ),
        },
        // A Job's template cannot change in place, and its name is fixed: replaced by deleting it first.
        // Its template carries the digest of the Secret values it applies (pod-secrets.ts), so a
        // rotated password, or a changed SQL file, replaces it: it runs again.
        { parent: this, dependsOn, deleteBeforeReplace: true },
      );
    const bootstrap = job("mysql-bootstrap", "bootstrap.sql", { server: a.mysqlPrimary, applyRootPassword: true }, [
      primary.ready,
    ]);
    // Set up only a replica that follows nobody yet (re-running must not reset a working replica's
    // position); one that does gets the rotated replication password, keeping its position. A failed
    // query is not "follows nobody": the re-point then fails the Job, loudly.
    const setups = replicas.map(({ address, server }, i) =>
      job(
        `${mysqlReplicaName(i + 1)}-setup`,
        "replica-setup.sql",
        { server: address, onlyIf: followsNobody(address), otherwiseRepointReplication: true },
        [bootstrap, server.ready],
      ),
    );
    this.ready = [bootstrap, ...setups];
    new k8s.networking.v1.NetworkPolicy(
      `${name}-policy`,
      { metadata: { name: "mysql", namespace }, spec: dataStorePolicy("mysql", { "floodgate.dev/store": "mysql" }) },
      { parent: this },
    );
    disruptionBudget(`${name}-budget`, MYSQL_GROUP, namespace, { parent: this });
    this.registerOutputs({ ready: this.ready });
  }
}
