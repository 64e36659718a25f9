import { posix } from "node:path";
import type { HostPort, Topology } from "../topology";

/** Where one MariaDB server keeps its files: under .floodgate/ locally, container paths under Pulumi. */
export interface MariadbPaths {
  datadir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  tmpdir: string;
}

/** One MariaDB server's identity and where it listens. */
export interface MariadbOptions {
  role: "primary" | "replica";
  serverId: number;
  port: number;
  bindHost: string;
  paths: MariadbPaths;
}

/** A complete defaults-file for mariadbd, mariadb-install-db and the mariadb client. */
export function renderMariadbCnf(t: Topology, opts: MariadbOptions): string {
  const { datadir } = opts.paths;
  const lines = [
    "[mysqld]",
    `port = ${opts.port}`,
    `bind-address = ${opts.bindHost}`,
    `datadir = ${datadir}`,
    `socket = ${opts.paths.socket}`,
    `pid-file = ${opts.paths.pidFile}`,
    `log-error = ${opts.paths.errorLog}`,
    `tmpdir = ${opts.paths.tmpdir}`,
    `server_id = ${opts.serverId}`,
    // Users are granted by IP; reverse DNS would only add latency and a failure mode.
    "skip-name-resolve",
    "character-set-server = utf8mb4",
    "collation-server = utf8mb4_unicode_ci",
    // Binlogs live with the data so a copied or restored datadir keeps its GTID history.
    `log_bin = ${posix.join(datadir, "mariadb-bin")}`,
    `log_bin_index = ${posix.join(datadir, "mariadb-bin.index")}`,
    `relay_log = ${posix.join(datadir, "relay-bin")}`,
    "binlog_format = ROW",
    "gtid_strict_mode = ON",
    // Replicas log what they apply, so a promoted replica can feed the others.
    "log_slave_updates = ON",
    // Durable on both roles: a replica becomes the primary on failover.
    "sync_binlog = 1",
    "innodb_flush_log_at_trx_commit = 1",
    `innodb_buffer_pool_size = ${t.mysql.bufferPoolMb}M`,
    `max_connections = ${t.mysql.maxConnections}`,
    "performance_schema = ON",
  ];
  if (opts.role === "replica") {
    // Stops every least-privilege user from writing here; only SUPER/READ ONLY ADMIN bypass it.
    lines.push("read_only = ON");
    // After a crash the relay log may be torn; refetch from the primary instead of trusting it.
    lines.push("relay_log_recovery = ON");
  }
  return lines.join("\n") + "\n";
}

/** A SQL string literal: quotes and backslashes escaped (the server's default sql_mode treats \ as an escape). */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** A SQL identifier in backquotes. */
function sqlIdent(name: string): string {
  return "`" + name.replace(/`/g, "``") + "`";
}

type UserRole = keyof Topology["mysql"]["users"];

/** Each role's grants ("db" = the app database); app has no DDL and nothing global, so read_only binds it. */
const GRANTS: Record<UserRole, [privileges: string, on: string][]> = {
  app: [["SELECT, INSERT, UPDATE, DELETE", "db"]],
  migrator: [["ALL PRIVILEGES", "db"]],
  replication: [["REPLICATION SLAVE, SLAVE MONITOR", "*.*"]],
  // What mariadb-backup and mariadb-dump --single-transaction need on 10.11, plus stopping the
  // replica's applier for a consistent snapshot (REPLICATION SLAVE ADMIN: STOP/START SLAVE).
  backup: [
    ["RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE ADMIN", "*.*"],
    ["SELECT, SHOW VIEW, TRIGGER, EVENT", "db"],
  ],
  exporter: [
    ["PROCESS, BINLOG MONITOR, SLAVE MONITOR", "*.*"],
    ["SELECT", "performance_schema.*"],
  ],
};

/** The exporter is capped so a scrape storm cannot eat the connection budget. */
const userLimits: Partial<Record<UserRole, string>> = { exporter: " WITH MAX_USER_CONNECTIONS 3" };

/** Idempotent SQL run as root on the primary (binlogged, so replicas get it): database, users, grants. */
export function renderBootstrapSql(t: Topology, opts: { clientHost: string }): string {
  const db = t.mysql.database;
  const out = [`CREATE DATABASE IF NOT EXISTS ${sqlIdent(db)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`];
  for (const role of Object.keys(t.mysql.users) as UserRole[]) {
    const { name, password } = t.mysql.users[role];
    const account = `${sqlString(name)}@${sqlString(opts.clientHost)}`;
    const limits = userLimits[role] ?? "";
    out.push(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ${sqlString(password)}${limits};`);
    // CREATE ... IF NOT EXISTS leaves an existing user alone; ALTER applies a rotated secret on re-run.
    out.push(`ALTER USER ${account} IDENTIFIED BY ${sqlString(password)}${limits};`);
    for (const [privileges, on] of GRANTS[role]) {
      out.push(`GRANT ${privileges} ON ${on === "db" ? `${sqlIdent(db)}.*` : on} TO ${account};`);
    }
  }
  return out.join("\n") + "\n";
}

/** SQL run on a replica to follow `primary` by GTID as the topology's replication user. */
export function renderReplicaSetupSql(t: Topology, opts: { primary: HostPort }): string {
  const { name, password } = t.mysql.users.replication;
  return [
    "STOP SLAVE;",
    "CHANGE MASTER TO",
    `  MASTER_HOST = ${sqlString(opts.primary.host)},`,
    `  MASTER_PORT = ${opts.primary.port},`,
    `  MASTER_USER = ${sqlString(name)},`,
    `  MASTER_PASSWORD = ${sqlString(password)},`,
    "  MASTER_USE_GTID = slave_pos,",
    // Reconnect fast after a primary restart or failover; the default is 60 s.
    "  MASTER_CONNECT_RETRY = 1;",
    "START SLAVE;",
    "",
  ].join("\n");
}

/** An option-file value both mysqld_exporter (go-ini) and the mariadb client read the same way. */
function optionValue(field: string, value: string): string {
  // Checked by hand: go-ini cuts at # and ; even inside double quotes, and the parsers unquote differently.
  if (/[#;"'`\\\p{Cc}]/u.test(value) || value !== value.trim()) {
    throw new Error(
      `${field}: must not contain # ; quotes, backslashes or control characters, nor start or end with a space`,
    );
  }
  return value;
}

/** The [client] option file mysqld_exporter reads for one target server. */
export function renderExporterMyCnf(t: Topology, target: HostPort): string {
  const { name, password } = t.mysql.users.exporter;
  return [
    "[client]",
    `user = ${optionValue("mysql.users.exporter.name", name)}`,
    `password = ${optionValue("mysql.users.exporter.password", password)}`,
    `host = ${target.host}`,
    `port = ${target.port}`,
    "",
  ].join("\n");
}
