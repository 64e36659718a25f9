import { createHash } from "node:crypto";
import { parseTopology, type Topology, type TopologyInput } from "../topology";
import {
  redisClusterCreateArgs,
  redisContainerCommand,
  redisRestartDelayMs,
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

describe("redisContainerCommand", () => {
  it.each([
    [2000, 6],
    [5000, 15],
  ])("sits out %i ms × 3 on a restart (nodes.conf present) and execs redis-server", (timeoutMs, seconds) => {
    const t = parseTopology({ redis: { clusterNodeTimeoutMs: timeoutMs } });
    const [shell, flag, script] = redisContainerCommand(t, { confFile: "/etc/redis/redis.conf", dataDir: "/data" });
    expect([shell, flag]).toEqual(["sh", "-c"]);
    expect(script).toBe(
      `if [ -f '/data/nodes.conf' ]; then sleep ${seconds}; fi; exec redis-server '/etc/redis/redis.conf'`,
    );
    expect(redisRestartDelayMs(t)).toBe(timeoutMs * 3);
  });
});
