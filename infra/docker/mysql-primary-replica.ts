import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderBootstrapSql, renderMariadbCnf, renderReplicaSetupSql } from "../render";
import type { HostPort } from "../topology";
import { mysqlClientHost, mysqlReplicaName, NAMES } from "./addresses";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { oneShotJob } from "./one-shot";

/** A MariaDB server's cnf on Docker: the image's own datadir and socket, listening on every interface. */
export function dockerMariadbCnf(ctx: DockerContext, role: "primary" | "replica", serverId: number, port: number) {
  return renderMariadbCnf(ctx.cfg.topology, {
    role,
    serverId,
    port,
    bindHost: "0.0.0.0",
    paths: {
      datadir: "/var/lib/mysql",
      socket: "/run/mysqld/mysqld.sock",
      pidFile: "/run/mysqld/mysqld.pid",
      errorLog: "/var/lib/mysql/mariadb-error.log",
      tmpdir: "/tmp",
    },
  });
}

/** The named volume of a MariaDB server's data (the runbooks' failover swaps data between them). */
export const mysqlVolumeName = (container: string) => `${container}-data`;

/**
 * Waits for the server, then runs one SQL file as root; the password comes from MYSQL_PWD, never
 * argv. The file holds passwords and a syntax error quotes the statement (`near '…'`): the
 * client's errors pass a filter that cuts the quote, and the job keeps the client's exit code.
 */
export function sqlJobScript(to: HostPort, file: string, onlyIf = "true"): string {
  const client = `mariadb -h ${to.host} -P ${to.port} -uroot`;
  return (
    `until ${client} -e 'SELECT 1' >/dev/null 2>&1; do sleep 2; done; ` +
    `if ${onlyIf}; then ${client} < ${file} 2>/tmp/sql-errors; rc=$?; ` +
    `sed "s/ near '.*/ near (the statement is not shown: it may hold a password)/" /tmp/sql-errors >&2; exit $rc; fi`
  );
}

/** MariaDB primary and GTID replicas, each with its volume; bootstrap and replication set up by one-shot jobs. */
export class MysqlPrimaryReplica extends pulumi.ComponentResource {
  /** The job that created the database and users, once it succeeded: the migrations wait for it. */
  readonly ready: pulumi.Output<pulumi.Resource>;
  /** The jobs that made each replica follow the primary, once each succeeded: readers wait for them. */
  readonly replicated: pulumi.Output<pulumi.Resource>[];
  /** Every MariaDB server container: primary first. */
  readonly servers: docker.Container[];

  constructor(name: string, ctx: DockerContext, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:MysqlPrimaryReplica", name, {}, opts);
    const t = ctx.cfg.topology;
    const a = ctx.addresses;
    const rootPassword = pulumi.interpolate`MARIADB_ROOT_PASSWORD=${ctx.cfg.secrets.mysqlRootPassword}`;
    const server = (container: string, role: "primary" | "replica", serverId: number, at: HostPort) => {
      const volume = new docker.Volume(
        `${name}-${container}-data`,
        { name: mysqlVolumeName(container) },
        { parent: this },
      );
      return new docker.Container(
        `${name}-${container}`,
        {
          name: container,
          image: ctx.images.mariadb,
          envs: [rootPassword],
          uploads: [{ file: PATHS.mariadbCnf, content: dockerMariadbCnf(ctx, role, serverId, at.port) }],
          volumes: [{ volumeName: volume.name, containerPath: "/var/lib/mysql" }],
          networksAdvanced: onNetwork(ctx.network, container),
          // A TCP ping on the server's own port; "access denied" still proves it serves, so no password is needed.
          healthcheck: healthcheck(`mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P ${at.port} ping`, 30),
          ...limits("mysql", t),
          ...LONG_RUNNING,
        },
        { parent: this, deleteBeforeReplace: true },
      );
    };
    const primary = server(NAMES.mysqlPrimary, "primary", 1, a.mysqlPrimary);
    const replicas = a.mysqlReplicas.map((at, i) => server(mysqlReplicaName(i + 1), "replica", i + 2, at));
    this.servers = [primary, ...replicas];

    const job = (
      jobName: string,
      sql: pulumi.Output<string>,
      to: HostPort,
      onlyIf: string,
      deps: pulumi.Input<pulumi.Resource>[],
    ) =>
      oneShotJob(
        `${name}-${jobName}`,
        {
          name: jobName,
          image: ctx.images.mariadb,
          envs: [pulumi.interpolate`MYSQL_PWD=${ctx.cfg.secrets.mysqlRootPassword}`],
          entrypoints: ["sh", "-c"],
          command: [sqlJobScript(to, `${PATHS.sqlDir}/${jobName}.sql`, onlyIf)],
          uploads: [{ file: `${PATHS.sqlDir}/${jobName}.sql`, content: sql }],
          networksAdvanced: onNetwork(ctx.network, jobName),
          ...limits("job", t),
        },
        { parent: this, deleteBeforeReplace: true, dependsOn: deps },
        Object.values(ctx.cfg.secrets),
      ).succeeded;
    // Re-run on every update: idempotent, and ALTER USER applies rotated passwords.
    const bootstrap = job(
      "mysql-bootstrap",
      ctx.secretTopology.apply((s) => renderBootstrapSql(s, { clientHost: mysqlClientHost(ctx.subnet) })),
      a.mysqlPrimary,
      "true",
      [primary],
    );
    this.replicated = a.mysqlReplicas.map((at, i) => {
      const replicaSql = ctx.secretTopology.apply((s) => renderReplicaSetupSql(s, { primary: a.mysqlPrimary }));
      // Only a replica that follows nobody yet: re-running must not reset a working replica's position.
      const notReplicating = `[ -z "$(mariadb -h ${at.host} -P ${at.port} -uroot -e 'SHOW SLAVE STATUS')" ]`;
      return job(`${mysqlReplicaName(i + 1)}-setup`, replicaSql, at, notReplicating, [bootstrap, replicas[i]]);
    });
    this.ready = bootstrap;
    this.registerOutputs({ primary: primary.name, replicas: replicas.map((r) => r.name) });
  }
}
