import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withSecrets } from "../deployment";
import { renderBootstrapSql, renderReplicaSetupSql } from "../render";
import { hostPort } from "../topology";
import { NAMES, mysqlReplicaName } from "./addresses";
import type { KubernetesContext } from "./context";
import { sqlJobScript } from "./job-scripts";
import { MysqlServer } from "./mysql-server";
import { scriptJobSpec, secretEnv } from "./object-specs";
import { clientLabels, dataStorePolicy, sizeOf } from "./pod-spec";

/** The SQL files the Jobs apply, as keys of the Secret and names under /sql. */
const SQL_FILES = ["bootstrap.sql", "replica-setup.sql"];

/** Users are created for any client host: pod addresses change, so the NetworkPolicy decides who connects. */
export const MYSQL_CLIENT_HOST = "%";

/** The MariaDB primary and its replicas, the users from renderBootstrapSql, replication set up by a Job per replica. */
export class MysqlPrimaryReplica extends pulumi.ComponentResource {
  constructor(name: string, ctx: KubernetesContext, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:MysqlPrimaryReplica", name, {}, opts);
    const { cfg, addresses: a, namespace } = ctx;
    const t = cfg.topology;
    const secret = new k8s.core.v1.Secret(
      `${name}-secrets`,
      {
        metadata: { name: "mysql-secrets", namespace },
        stringData: pulumi.all(cfg.secrets).apply((values) => {
          const real = withSecrets(t, values);
          return {
            rootPassword: values.mysqlRootPassword,
            "bootstrap.sql": renderBootstrapSql(real, { clientHost: MYSQL_CLIENT_HOST }),
            "replica-setup.sql": renderReplicaSetupSql(real, { primary: a.mysqlPrimary }),
          };
        }),
      },
      { parent: this },
    );
    const servers = [
      { server: NAMES.mysqlPrimary, role: "primary" as const, address: a.mysqlPrimary },
      ...a.mysqlReplicas.map((address, i) => ({ server: mysqlReplicaName(i + 1), role: "replica" as const, address })),
    ].map(
      (s, i) =>
        new MysqlServer(
          `${name}-${s.server}`,
          { ...ctx, ...s, serverId: i + 1, rootSecret: secret.metadata.name },
          { parent: this },
        ),
    );
    const job = (jobName: string, script: string, dependsOn: pulumi.Resource[]) =>
      new k8s.batch.v1.Job(
        `${name}-${jobName}`,
        {
          metadata: { name: jobName, namespace },
          spec: scriptJobSpec({
            image: cfg.images.mariadb,
            imageUser: "mariadb",
            script,
            // The client reads the password from the environment: never in arguments.
            env: [secretEnv("MYSQL_PWD", secret.metadata.name, "rootPassword")],
            volumeMounts: [{ name: "sql", mountPath: "/sql", readOnly: true }],
            // Only the SQL files: the root password reaches the client through the environment alone.
            volumes: [
              {
                name: "sql",
                secret: { secretName: secret.metadata.name, items: SQL_FILES.map((f) => ({ key: f, path: f })) },
              },
            ],
            labels: clientLabels("mysql"),
            size: sizeOf(t, "job"),
          }),
        },
        { parent: this, dependsOn },
      );
    const [primary, ...replicas] = servers;
    const bootstrap = job("mysql-bootstrap", sqlJobScript(a.mysqlPrimary, "/sql/bootstrap.sql"), [primary.statefulSet]);
    a.mysqlReplicas.forEach((replica, i) =>
      job(
        `${mysqlReplicaName(i + 1)}-setup`,
        // Only a replica that follows no primary yet: re-running must not reset a working one.
        sqlJobScript(replica, "/sql/replica-setup.sql", "SHOW SLAVE STATUS"),
        [bootstrap, replicas[i].statefulSet],
      ),
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-policy`,
      { metadata: { name: "mysql", namespace }, spec: dataStorePolicy("mysql", { "floodgate.dev/store": "mysql" }) },
      { parent: this },
    );
    this.registerOutputs({ primary: hostPort(a.mysqlPrimary), replicas: a.mysqlReplicas.map(hostPort) });
  }
}
