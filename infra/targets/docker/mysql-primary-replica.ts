import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderBootstrapSql, renderMariadbCnf, renderReplicaSetupSql } from "../../render";
import type { Addresses, HostPort } from "../../topology";
import { mysqlReplicaName, NAMES } from "../../topology";
import { mysqlClientHost } from "./addresses";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import type { DeployConfig } from "../../deployment";
import { PATHS, type DockerContext } from "./context";
import { CREDENTIALS_DIR, CREDENTIALS_VOLUME, followsNobody, mysqlJobScript, type MysqlJobSteps } from "../../render";
import { oneShotJob } from "./one-shot";

/**
 * A MariaDB server's whole cnf on Docker: the image's datadir and socket, listening on every
 * interface, the error log on stderr (the image links /var/log/mysql/error.log there: mariadbd
 * appends ".err" to a log-error path without an extension, so /dev/stderr itself will not do).
 */
export function dockerMariadbCnf(
  ctx: { cfg: Pick<DeployConfig, "topology"> },
  role: "primary" | "replica",
  serverId: number,
  port: number,
) {
  return renderMariadbCnf(ctx.cfg.topology, {
    role,
    serverId,
    port,
    bindHost: "0.0.0.0",
    paths: {
      datadir: PATHS.mariadbData,
      socket: "/run/mysqld/mysqld.sock",
      pidFile: "/run/mysqld/mysqld.pid",
      errorLog: "/var/log/mysql/error.log",
      tmpdir: "/tmp",
    },
  });
}

/** The named volume of a MariaDB server's data (the runbooks' failover swaps data between them). */
export const mysqlVolumeName = (container: string) => `${container}-data`;

/** What MysqlPrimaryReplica reads: the MariaDB addresses, the network, the secrets and the mariadb image. */
export interface MysqlPrimaryReplicaArgs extends Pick<DockerContext, "network" | "subnet" | "secretTopology"> {
  addresses: Pick<Addresses, "mysqlPrimary" | "mysqlReplicas">;
  cfg: Pick<DeployConfig, "topology" | "secrets">;
  images: Pick<DockerContext["images"], "mariadb">;
}

/** MariaDB primary and GTID replicas, each with its volume; bootstrap and replication set up by one-shot jobs. */
export class MysqlPrimaryReplica extends pulumi.ComponentResource {
  /** The job that created the database and users, once it succeeded: the migrations wait for it. */
  readonly ready: pulumi.Output<pulumi.Resource>;
  /** The jobs that made each replica follow the primary, once each succeeded: readers wait for them. */
  readonly replicated: pulumi.Output<pulumi.Resource>[];
  /** Every MariaDB server, primary first: what must wait for the servers to run (the backups) depends on them. */
  readonly servers: pulumi.Resource[];

  constructor(name: string, args: MysqlPrimaryReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:MysqlPrimaryReplica", name, {}, opts);
    const t = args.cfg.topology;
    const a = args.addresses;
    const s = args.cfg.secrets;
    const rootPassword = pulumi.interpolate`MARIADB_ROOT_PASSWORD=${s.mysqlRootPassword}`;
    const server = (
      container: string,
      role: "primary" | "replica",
      serverId: number,
      at: HostPort,
      after?: docker.Container,
    ) => {
      const volume = new docker.Volume(
        `${name}-${container}-data`,
        { name: mysqlVolumeName(container) },
        { parent: this },
      );
      return new docker.Container(
        `${name}-${container}`,
        {
          name: container,
          image: args.images.mariadb,
          envs: [rootPassword],
          uploads: [{ file: PATHS.mariadbCnf, content: dockerMariadbCnf(args, role, serverId, at.port) }],
          command: [`--defaults-file=${PATHS.mariadbCnf}`],
          volumes: [{ volumeName: volume.name, containerPath: PATHS.mariadbData }],
          networksAdvanced: onNetwork(args.network, container),
          // A TCP ping on the server's own port; "access denied" still proves it serves, so no password is needed.
          healthcheck: healthcheck(`mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P ${at.port} ping`, 30),
          ...limits("mysql", t),
          ...LONG_RUNNING,
        },
        {
          parent: this,
          deleteBeforeReplace: true,
          // The entry point reads MARIADB_ROOT_PASSWORD only to initialise an empty datadir: a rotated
          // root password is applied in place by the bootstrap job, never by replacing a server.
          ignoreChanges: ["envs"],
          // One server at a time: a change that does replace them never stops them all at once.
          dependsOn: after ? [after] : [],
        },
      );
    };
    const primary = server(NAMES.mysqlPrimary, "primary", 1, a.mysqlPrimary);
    // Each replica after the server before it, the first after the primary.
    const replicas: Array<{ at: HostPort; container: docker.Container }> = [];
    a.mysqlReplicas.forEach((at, i) => {
      const after = replicas.at(-1)?.container ?? primary;
      replicas.push({ at, container: server(mysqlReplicaName(i + 1), "replica", i + 2, at, after) });
    });
    this.servers = [primary, ...replicas.map((r) => r.container)];
    const credentials = new docker.Volume(`${name}-credentials`, { name: CREDENTIALS_VOLUME }, { parent: this });

    const job = (
      jobName: string,
      sql: pulumi.Output<string>,
      steps: Omit<MysqlJobSteps, "sqlFile">,
      deps: pulumi.Input<pulumi.Resource>[],
    ) =>
      oneShotJob(
        `${name}-${jobName}`,
        {
          name: jobName,
          image: args.images.mariadb,
          envs: [
            pulumi.interpolate`MYSQL_PWD=${s.mysqlRootPassword}`,
            ...(steps.otherwiseRepointReplication
              ? [
                  `REPLICATION_USER=${t.mysql.users.replication.name}`,
                  pulumi.interpolate`REPLICATION_PASSWORD=${s.mysqlReplicationPassword}`,
                ]
              : []),
          ],
          entrypoints: ["sh", "-c"],
          command: [mysqlJobScript({ ...steps, sqlFile: `${PATHS.sqlDir}/${jobName}.sql` })],
          uploads: [{ file: `${PATHS.sqlDir}/${jobName}.sql`, content: sql }],
          volumes: [{ volumeName: credentials.name, containerPath: CREDENTIALS_DIR }],
          networksAdvanced: onNetwork(args.network, jobName),
          ...limits("job", t),
        },
        { parent: this, deleteBeforeReplace: true, dependsOn: deps },
        Object.values(args.cfg.secrets),
      ).succeeded;
    // Replaced, so re-run, whenever a password changes: idempotent, and ALTER USER applies each
    // rotated password in place, root's included (mysql-jobs.ts).
    const bootstrap = job(
      "mysql-bootstrap",
      args.secretTopology.apply((st) => renderBootstrapSql(st, { clientHost: mysqlClientHost(args.subnet) })),
      { server: a.mysqlPrimary, applyRootPassword: true },
      [primary],
    );
    this.replicated = replicas.map(({ at, container }, i) => {
      const replicaSql = args.secretTopology.apply((st) => renderReplicaSetupSql(st, { primary: a.mysqlPrimary }));
      // Set up only a replica that follows nobody yet (re-running must not reset a working replica's
      // position); one that does gets the rotated replication password, keeping its position. A
      // failed query is not "follows nobody": the re-point then fails the job, loudly.
      return job(
        `${mysqlReplicaName(i + 1)}-setup`,
        replicaSql,
        { server: at, onlyIf: followsNobody(at), otherwiseRepointReplication: true },
        [bootstrap, container],
      );
    });
    this.ready = bootstrap;
    this.registerOutputs({ ready: this.ready, replicated: this.replicated, servers: this.servers });
  }
}
