import { present } from "../../test/support/checked";
import { parseTopology, type Topology, type TopologyInput } from "../topology";
import {
  renderBootstrapSql,
  renderExporterMyCnf,
  renderMariadbCnf,
  renderReplicaSetupSql,
  sqlString,
  type MariadbOptions,
} from "./mariadb";

const buildTopology = (input: TopologyInput = {}): Topology => parseTopology(input);

const buildOptions = (overrides: Partial<MariadbOptions> = {}): MariadbOptions => ({
  role: "primary",
  serverId: 1,
  port: 13306,
  bindHost: "127.0.0.1",
  paths: {
    datadir: "/srv/db/data",
    socket: "/run/db/mysqld.sock",
    pidFile: "/run/db/mysqld.pid",
    errorLog: "/var/log/db/error.log",
    tmpdir: "/srv/db/tmp",
  },
  ...overrides,
});

/** The cnf as key → value ("" for bare flags). */
function settings(cnf: string): Map<string, string> {
  const lines = cnf.split("\n").filter((l) => l !== "" && !l.startsWith("["));
  return new Map(lines.map((l) => (l.split(" = ") as [string, string?]).map((s) => s ?? "") as [string, string]));
}

/** Each account's grants as "PRIVILEGES ON target", in order. */
function grantsByAccount(sql: string): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  for (const [, privileges, on, account] of sql.matchAll(/^GRANT (.+) ON (\S+) TO ('[^']+'@'[^']+');$/gm)) {
    const grantee = present(account, "a GRANT's account");
    grants.set(grantee, [...(grants.get(grantee) ?? []), `${privileges} ON ${on}`]);
  }
  return grants;
}

describe("renderMariadbCnf", () => {
  it.each(["primary", "replica"] as const)("keeps commits durable on a %s", (role) => {
    const s = settings(renderMariadbCnf(buildTopology(), buildOptions({ role })));

    expect(s.get("sync_binlog")).toBe("1");
    expect(s.get("innodb_flush_log_at_trx_commit")).toBe("1");
    expect(s.get("binlog_format")).toBe("ROW");
    expect(s.get("gtid_strict_mode")).toBe("ON");
    expect(s.get("log_slave_updates")).toBe("ON");
  });

  it.each([
    ["primary", undefined, undefined],
    ["replica", "ON", "ON"],
  ] as const)("sets read_only and relay_log_recovery on a %s to %s", (role, readOnly, recovery) => {
    const s = settings(renderMariadbCnf(buildTopology(), buildOptions({ role })));

    expect(s.get("read_only")).toBe(readOnly);
    expect(s.get("relay_log_recovery")).toBe(recovery);
  });

  it.each([
    ["127.0.0.1", 13306, 1],
    ["0.0.0.0", 3306, 7],
  ])("listens where it is told (%s:%d, server %d) and bakes in no other address", (bindHost, port, serverId) => {
    const cnf = renderMariadbCnf(buildTopology(), buildOptions({ bindHost, port, serverId }));
    const s = settings(cnf);

    expect([s.get("bind-address"), s.get("port"), s.get("server_id")]).toEqual([
      bindHost,
      String(port),
      String(serverId),
    ]);
    expect(cnf.match(/\d+\.\d+\.\d+\.\d+/g)).toEqual([bindHost]);
  });

  it("keeps binlogs and relay logs inside the datadir and takes every path from the options", () => {
    const opts = buildOptions();
    const s = settings(renderMariadbCnf(buildTopology(), opts));

    for (const key of ["log_bin", "log_bin_index", "relay_log"]) expect(s.get(key)).toMatch(/^\/srv\/db\/data\//);
    expect([s.get("datadir"), s.get("socket"), s.get("pid-file"), s.get("log-error"), s.get("tmpdir")]).toEqual([
      opts.paths.datadir,
      opts.paths.socket,
      opts.paths.pidFile,
      opts.paths.errorLog,
      opts.paths.tmpdir,
    ]);
  });

  it("sizes the buffer pool and connection limit from the topology", () => {
    const s = settings(
      renderMariadbCnf(buildTopology({ mysql: { bufferPoolMb: 1024, maxConnections: 42 } }), buildOptions()),
    );

    expect(s.get("innodb_buffer_pool_size")).toBe("1024M");
    expect(s.get("max_connections")).toBe("42");
  });
});

describe("sqlString", () => {
  it.each([
    ["plain", "'plain'"],
    ["it's", "'it''s'"],
    ["back\\slash", "'back\\\\slash'"],
    ["\\'", "'\\\\'''"],
  ])("quotes %j as %s", (value, quoted) => {
    expect(sqlString(value)).toBe(quoted);
  });
});

describe("renderBootstrapSql", () => {
  const db = "`floodgate`";
  it.each([
    ["floodgate_app", [`SELECT, INSERT, UPDATE, DELETE ON ${db}.*`]],
    ["floodgate_migrator", [`ALL PRIVILEGES ON ${db}.*`]],
    ["floodgate_repl", ["REPLICATION SLAVE, SLAVE MONITOR ON *.*"]],
    [
      "floodgate_backup",
      [
        "RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE ADMIN ON *.*",
        `SELECT, SHOW VIEW, TRIGGER, EVENT ON ${db}.*`,
      ],
    ],
    ["floodgate_exporter", ["PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.*", "SELECT ON performance_schema.*"]],
  ])("grants %s exactly its privileges", (name, expected) => {
    const sql = renderBootstrapSql(buildTopology(), { clientHost: "10.0.0.%" });

    expect(grantsByAccount(sql).get(`'${name}'@'10.0.0.%'`)).toEqual(expected);
  });

  it("creates, then re-applies the password of, every topology user at the client host", () => {
    const t = buildTopology();
    const sql = renderBootstrapSql(t, { clientHost: "127.0.0.1" });

    for (const { name, password } of Object.values(t.mysql.users)) {
      const account = `'${name}'@'127.0.0.1' IDENTIFIED BY '${password}'`;
      expect(sql).toContain(`CREATE USER IF NOT EXISTS ${account}`);
      expect(sql).toContain(`ALTER USER ${account}`);
    }
    expect(grantsByAccount(sql).size).toBe(5);
  });

  it("gives the app user no DDL and no global privilege, so read_only binds it on replicas", () => {
    const grants = grantsByAccount(renderBootstrapSql(buildTopology(), { clientHost: "127.0.0.1" }));
    const app = grants.get("'floodgate_app'@'127.0.0.1'") ?? [];

    expect(app.join()).not.toMatch(/\*\.\*|ALL|CREATE|ALTER|DROP|SUPER|READ ONLY ADMIN|GRANT OPTION/);
  });

  it("caps the exporter's connections", () => {
    const sql = renderBootstrapSql(buildTopology(), { clientHost: "127.0.0.1" });

    expect(sql).toMatch(/^ALTER USER 'floodgate_exporter'@'127\.0\.0\.1' .* WITH MAX_USER_CONNECTIONS 3;$/m);
  });

  it("escapes a password holding a quote and a backslash", () => {
    const t = buildTopology({ mysql: { users: { app: { password: "o'brien\\x" } } } });

    expect(renderBootstrapSql(t, { clientHost: "127.0.0.1" })).toContain("IDENTIFIED BY 'o''brien\\\\x';");
  });

  it("creates the database in utf8mb4 before any grant", () => {
    const sql = renderBootstrapSql(buildTopology({ mysql: { database: "shop" } }), { clientHost: "127.0.0.1" });

    expect(sql.split("\n")[0]).toBe(
      "CREATE DATABASE IF NOT EXISTS `shop` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
    );
  });
});

describe("renderReplicaSetupSql", () => {
  it("follows the given primary by GTID as the replication user", () => {
    const t = buildTopology({ mysql: { users: { replication: { password: "r'pw" } } } });
    const sql = renderReplicaSetupSql(t, { primary: { host: "db-0.internal", port: 3306 } });

    expect(sql.split("\n")).toEqual([
      "STOP SLAVE;",
      "CHANGE MASTER TO",
      "  MASTER_HOST = 'db-0.internal',",
      "  MASTER_PORT = 3306,",
      "  MASTER_USER = 'floodgate_repl',",
      "  MASTER_PASSWORD = 'r''pw',",
      "  MASTER_USE_GTID = slave_pos,",
      "  MASTER_CONNECT_RETRY = 1;",
      "START SLAVE;",
      "",
    ]);
  });
});

describe("renderExporterMyCnf", () => {
  it("points the exporter user at the target server", () => {
    const cnf = renderExporterMyCnf(buildTopology(), { host: "0.0.0.0", port: 3307 });

    expect(cnf).toBe(
      "[client]\nuser = floodgate_exporter\npassword = local-exporter-password\nhost = 0.0.0.0\nport = 3307\n",
    );
  });

  it.each(["a#b", "a;b", 'a"b', "a'b", "a\\b", "a\nb", " ab", "ab "])(
    "refuses a password the option-file parsers would read differently: %j",
    (password) => {
      const t = buildTopology({ mysql: { users: { exporter: { password } } } });

      expect(() => renderExporterMyCnf(t, { host: "127.0.0.1", port: 3306 })).toThrow(
        /mysql\.users\.exporter\.password/,
      );
    },
  );
});
