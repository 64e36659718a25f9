import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseTopology, type Topology, type TopologyInput } from "../topology";
import {
  REDIS_HOSTNAME_ENV,
  redisClusterCreateArgs,
  redisContainerCommand,
  redisRestartDelayMs,
  redisShards,
  renderRedisConf,
  type RedisNodeOptions,
} from "./redis";

const buildTopology = (input: TopologyInput = {}): Topology => parseTopology(input);

const buildNode = (overrides: Partial<RedisNodeOptions> = {}): RedisNodeOptions => ({
  port: 17001,
  bindHost: "127.0.0.1",
  paths: { dir: "/data/redis", pidFile: "/run/redis.pid", logFile: "/var/log/redis.log" },
  ...overrides,
});

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const directive = (conf: string, name: string) => conf.split("\n").filter((l) => l.startsWith(`${name} `));

describe("renderRedisConf", () => {
  it.each([
    [17001, "0.0.0.0", undefined],
    [17004, "0.0.0.0", "10.1.2.3"],
    [17004, "127.0.0.1", undefined],
  ])("for port %d bound to %s announces %s only when given", (port, bindHost, announceHost) => {
    const conf = renderRedisConf(buildTopology(), buildNode({ port, bindHost, announceHost }));

    expect(directive(conf, "port")).toEqual([`port ${port}`]);
    expect(directive(conf, "bind")).toEqual([`bind ${bindHost}`]);
    expect(directive(conf, "cluster-announce-ip")).toEqual(announceHost ? [`cluster-announce-ip ${announceHost}`] : []);
    expect(conf.match(/\d+\.\d+\.\d+\.\d+/g)).toEqual([bindHost, ...(announceHost ? [announceHost] : [])]);
  });

  it("runs as a durable, never-evicting cluster node with its files where it is told", () => {
    const t = buildTopology({ redis: { clusterNodeTimeoutMs: 1500, maxMemoryMb: 512 } });
    const conf = renderRedisConf(t, buildNode());

    for (const line of [
      "cluster-enabled yes",
      "cluster-config-file nodes.conf",
      "cluster-node-timeout 1500",
      "appendonly yes",
      "appendfsync everysec",
      "maxmemory 512mb",
      "maxmemory-policy noeviction",
      "protected-mode yes",
      "daemonize no",
      "dir /data/redis",
      "pidfile /run/redis.pid",
      "logfile /var/log/redis.log",
    ]) {
      expect(conf.split("\n")).toContain(line);
    }
  });

  it("disables the default user", () => {
    expect(directive(renderRedisConf(buildTopology(), buildNode()), "user")[0]).toBe("user default off");
  });

  it.each([
    ["app", "~* &* +@all -@admin -@dangerous +info +cluster|slots +cluster|shards +cluster|nodes +cluster|info"],
    ["replication", "+psync +replconf +ping"],
    ["admin", "~* &* +@all"],
    ["exporter", "~* +client +ping +info +config|get +cluster|info +slowlog"],
  ] as const)("gives %s its password hash and the rules %s", (user, rules) => {
    const t = buildTopology();
    const line = directive(renderRedisConf(t, buildNode()), "user").find((l) => l.startsWith(`user ${user} `));

    expect(line).toContain(`user ${user} on #${sha256(t.redis.users[user].password)} ${rules}`);
  });

  it("renders no plaintext password except the replication one in masterauth", () => {
    const t = buildTopology();
    const lines = renderRedisConf(t, buildNode()).split("\n");

    for (const { password } of Object.values(t.redis.users)) {
      const holders = lines.filter((l) => l.includes(password));
      const expected = password === t.redis.users.replication.password ? [`masterauth "${password}"`] : [];
      expect(holders).toEqual(expected);
    }
    expect(lines).toContain("masteruser replication");
  });

  it("quotes a masterauth password holding quotes, backslashes and a hash", () => {
    const t = buildTopology({ redis: { users: { replication: { password: 'a "b" \\ #c' } } } });

    expect(directive(renderRedisConf(t, buildNode()), "masterauth")).toEqual(['masterauth "a \\"b\\" \\\\ #c"']);
  });
});

describe("redisClusterCreateArgs", () => {
  const nodes = (n: number) => Array.from({ length: n }, (_, i) => ({ host: "127.0.0.1", port: 17001 + i }));

  it.each([
    [
      3,
      1,
      [
        "127.0.0.1:17001",
        "127.0.0.1:17002",
        "127.0.0.1:17003",
        "127.0.0.1:17004",
        "127.0.0.1:17005",
        "127.0.0.1:17006",
      ],
    ],
    [3, 0, ["127.0.0.1:17001", "127.0.0.1:17002", "127.0.0.1:17003"]],
  ])("forms %d masters with %d replicas each", (masters, replicas, addresses) => {
    const args = redisClusterCreateArgs(nodes(masters * (1 + replicas)), replicas);

    expect(args).toEqual([
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
  });
});

describe("redisShards", () => {
  const nodes = (n: number) => Array.from({ length: n }, (_, i) => ({ host: `redis-${i + 1}`, port: 6379 }));
  const hosts = (ns: Array<{ host: string }>) => ns.map((n) => n.host);

  it.each([
    [
      3,
      6,
      [
        ["redis-1", "redis-4"],
        ["redis-2", "redis-5"],
        ["redis-3", "redis-6"],
      ],
    ],
    [
      3,
      9,
      [
        ["redis-1", "redis-4", "redis-7"],
        ["redis-2", "redis-5", "redis-8"],
        ["redis-3", "redis-6", "redis-9"],
      ],
    ],
    [3, 3, [["redis-1"], ["redis-2"], ["redis-3"]]],
  ])("splits %d masters out of %d nodes into shards of a master and its own replicas", (masters, n, expected) => {
    expect(redisShards(nodes(n), masters).map((s) => [s.master.host, ...hosts(s.replicas)])).toEqual(expected);
  });

  it("refuses nodes that make unequal shards, naming both counts", () => {
    expect(() => redisShards(nodes(7), 3)).toThrow("7 Redis nodes cannot form 3 equal shards");
  });
});

describe("redisContainerCommand", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-start-"));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.mkdirSync(path.join(dir, "data"));
    // Stand-ins: names resolve to what RESOLVES lists ("name=ip ..."); redis-server prints its arguments.
    const tool = (name: string, body: string) =>
      fs.writeFileSync(path.join(dir, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    tool("getent", 'for p in $RESOLVES; do [ "${p%%=*}" = "$2" ] && echo "${p#*=}       STREAM $2"; done; exit 0');
    tool("sleep", 'echo "slept $1"');
    tool("redis-server", 'echo "redis-server $*"');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the container's command over `nodesConf` (none: a first start); its output and nodes.conf after. */
  function start(t: Topology, env: Record<string, string>, nodesConf?: string) {
    if (nodesConf !== undefined) fs.writeFileSync(path.join(dir, "data", "nodes.conf"), nodesConf);
    const [shell, flag, script] = redisContainerCommand(t, {
      confFile: "/etc/redis/redis.conf",
      dataDir: path.join(dir, "data"),
      resolveWaitSeconds: 2,
    });
    return new Promise<{ output: string; nodesConf?: string; files: string[] }>((resolve, reject) =>
      execFile(shell, [flag, script], { env: { PATH: `${dir}/bin:/usr/bin:/bin`, ...env } }, (err, stdout, stderr) => {
        if (err) return reject(err);
        const file = path.join(dir, "data", "nodes.conf");
        resolve({
          output: stdout + stderr,
          nodesConf: fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined,
          files: fs.readdirSync(path.join(dir, "data")),
        });
      }),
    );
  }

  // Redis 7.0's nodes.conf, as the six nodes of a cluster formed on names wrote it.
  const line = (id: string, ip: string, host: string, rest: string) => `${id} ${ip}:6379@16379,${host} ${rest}`;
  const conf = [
    line("aaa", "10.1.0.5", "redis-shard-0-0.redis", "myself,master - 0 0 1 connected 0-5460"),
    line("bbb", "10.1.0.6", "redis-shard-0-1.redis", "slave aaa 0 1700000000000 1 connected"),
    line("ccc", "10.1.0.7", "redis-shard-1-0.redis", "master - 0 1700000000000 2 connected 5461-10922"),
    `ddd 10.1.0.8:6379@16379, master - 0 1700000000000 3 connected 10923-16383`,
    "vars currentEpoch 3 lastVoteEpoch 0",
    "",
  ].join("\n");

  it("on a first start runs redis-server at once, announcing the name it is given", async () => {
    const t = parseTopology({ redis: { clusterNodeTimeoutMs: 2000 } });
    const run = await start(t, { [REDIS_HOSTNAME_ENV]: "redis-shard-0-0.redis" });

    expect(run.output).toBe(
      "redis-server /etc/redis/redis.conf --cluster-announce-hostname redis-shard-0-0.redis " +
        "--cluster-preferred-endpoint-type hostname\n",
    );
  });

  it("without a name to announce stays on IPs (the same command serves nodes on fixed addresses)", async () => {
    const run = await start(parseTopology({}), {});
    expect(run.output).toBe("redis-server /etc/redis/redis.conf\n");
  });

  it("on a restart points every named entry, its own and its peers', at the address its name has now", async () => {
    const t = parseTopology({ redis: { clusterNodeTimeoutMs: 2000 } });
    const resolves = "redis-shard-0-0.redis=10.2.0.9 redis-shard-0-1.redis=10.2.0.3 redis-shard-1-0.redis=10.2.0.4";
    const run = await start(t, { RESOLVES: resolves }, conf);

    expect(run.nodesConf).toBe(
      conf.replace("10.1.0.5", "10.2.0.9").replace("10.1.0.6", "10.2.0.3").replace("10.1.0.7", "10.2.0.4"),
    );
    expect(run.output).toContain("nodes.conf: 3 names resolved");
    // Then it sits out its replica's failover: 3 × the node timeout.
    expect(run.output).toContain("slept 6\nredis-server /etc/redis/redis.conf\n");
    expect(run.files).toEqual(["nodes.conf"]);
  });

  it("keeps the old address of a name that does not resolve within its wait, and every other line as it was", async () => {
    const t = parseTopology({});
    const run = await start(t, { RESOLVES: "redis-shard-0-1.redis=10.2.0.3" }, conf);

    expect(run.nodesConf).toBe(conf.replace("10.1.0.6", "10.2.0.3"));
    expect(run.output).toContain("nodes.conf: 1 names resolved");
    expect(run.output.match(/slept 1\n/g)).toHaveLength(2);
  });

  it("sits out the restart delay of its topology", () => {
    expect(redisRestartDelayMs(parseTopology({ redis: { clusterNodeTimeoutMs: 5000 } }))).toBe(15_000);
  });
});
