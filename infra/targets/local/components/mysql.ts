import fs from "node:fs";
import path from "node:path";
import { mysqlReplicaName, NAMES, type HostPort } from "../../../topology";
import { renderBootstrapSql, renderMariadbCnf, renderReplicaSetupSql } from "../../../render";
import { exitedMessage, run, unixSocketPath, writeConfig, type StackContext } from "../context";
import { waitFor } from "../wait";
import { parseVerticalRow } from "../../clients";

interface MariadbServer {
  name: string;
  role: "primary" | "replica";
  serverId: number;
  address: HostPort;
  dir: string;
  socket: string;
  cnf: string;
}

/** The primary, then each replica (server ids 1, 2, …). */
function servers(ctx: Pick<StackContext, "addresses" | "layout">): [MariadbServer, ...MariadbServer[]] {
  const { addresses: a, layout } = ctx;
  const server = (name: string, role: MariadbServer["role"], address: HostPort, serverId: number): MariadbServer => {
    const dir = layout.dir(name);
    return {
      name,
      role,
      address,
      serverId,
      dir,
      socket: unixSocketPath(dir, "mysqld.sock"),
      cnf: path.join(dir, "my.cnf"),
    };
  };
  return [
    server(NAMES.mysqlPrimary, "primary", a.mysqlPrimary, 1),
    ...a.mysqlReplicas.map((address, i) => server(mysqlReplicaName(i + 1), "replica", address, i + 2)),
  ];
}

/** Run SQL as the local root account over the server's socket (socket authentication: no password). */
export function rootSql(socket: string, sql: string): Promise<string> {
  return run(
    "mariadb",
    ["--no-defaults", "--protocol=socket", `--socket=${socket}`, "-uroot", "--batch", "--skip-column-names"],
    {
      input: sql,
    },
  );
}

/** `SHOW SLAVE STATUS` of a server as a field → value map (empty when it is not a replica). */
export async function replicaStatus(socket: string): Promise<Record<string, string>> {
  const out = await run(
    "mariadb",
    ["--no-defaults", "--protocol=socket", `--socket=${socket}`, "-uroot", "--vertical"],
    {
      input: "SHOW SLAVE STATUS",
    },
  );
  return parseVerticalRow(out);
}

export { parseVerticalRow };

// Every stack process runs as the invoking user; as root that needs MariaDB's explicit --user=root,
// which also spares a checkout under /root from needing to be readable by the mysql account.
const userArgs = () => (process.getuid?.() === 0 ? ["--user=root"] : []);

async function startServer(ctx: StackContext, s: MariadbServer): Promise<void> {
  const datadir = path.join(s.dir, "data");
  const tmpdir = path.join(s.dir, "tmp");
  fs.mkdirSync(tmpdir, { recursive: true });
  const cnf = renderMariadbCnf(ctx.topology, {
    role: s.role,
    serverId: s.serverId,
    port: s.address.port,
    bindHost: ctx.bindHost,
    paths: {
      datadir,
      socket: s.socket,
      pidFile: path.join(s.dir, "mariadbd.pid"),
      errorLog: ctx.layout.log(s.name),
      tmpdir,
    },
  });
  writeConfig(s.cnf, cnf);
  if (!fs.existsSync(path.join(datadir, "mysql"))) {
    ctx.progress(`${s.name}: initialising a new data directory`);
    await run("mariadb-install-db", [
      `--defaults-file=${s.cnf}`,
      ...userArgs(),
      "--auth-root-authentication-method=socket",
      "--skip-test-db",
    ]);
  }
  ctx.supervisor.start({
    name: s.name,
    command: "mariadbd",
    args: [`--defaults-file=${s.cnf}`, ...userArgs()],
    logFile: ctx.layout.log(`${s.name}.stdout`),
    address: `${s.address.host}:${s.address.port}`,
    stopTimeoutMs: 30_000,
  });
  const ms = await waitFor(s.name, async () => (await rootSql(s.socket, "SELECT 1")).trim() === "1", {
    timeoutMs: 30_000,
    gone: exitedMessage(ctx, s.name),
  });
  ctx.progress(`${s.name} ready in ${ms} ms`);
}

/** Start the primary, create the database and users, then start each replica and attach it with GTID. */
export async function startMysql(ctx: StackContext): Promise<void> {
  const [primary, ...replicas] = servers(ctx);
  await startServer(ctx, primary);
  await rootSql(primary.socket, renderBootstrapSql(ctx.topology, { clientHost: ctx.bindHost }));
  const appUser = ctx.topology.mysql.users.app.name;
  await Promise.all(
    replicas.map(async (replica) => {
      await startServer(ctx, replica);
      if (Object.keys(await replicaStatus(replica.socket)).length === 0) {
        await rootSql(replica.socket, renderReplicaSetupSql(ctx.topology, { primary: ctx.addresses.mysqlPrimary }));
      }
      // The users reach the replica through replication, so seeing them proves it streams.
      const ms = await waitFor(
        `${replica.name} replication`,
        async () =>
          (await rootSql(replica.socket, `SELECT COUNT(*) FROM mysql.user WHERE user = '${appUser}'`)).trim() !== "0",
        { timeoutMs: 30_000, gone: exitedMessage(ctx, replica.name) },
      );
      ctx.progress(`${replica.name} replicating from mysql-primary (caught up in ${ms} ms)`);
    }),
  );
}

/** Sockets of the stack's MariaDB servers, for tests and runbooks that need root access. */
export function mysqlSockets(ctx: Pick<StackContext, "addresses" | "layout">): Record<string, string> {
  return Object.fromEntries(servers(ctx).map((s) => [s.name, s.socket]));
}
