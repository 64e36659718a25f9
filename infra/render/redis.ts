import { createHash } from "node:crypto";
import { boundedWait } from "./job-shell";
import { hostPort, type HostPort, type Topology } from "../topology";

/** Where one Redis node keeps its files: its own dir, since nodes.conf and the AOF are per node. */
export interface RedisNodePaths {
  dir: string;
  pidFile: string;
  logFile: string;
}

/** One Redis Cluster node: where it listens and, behind NAT or in a container, the IP it announces. */
export interface RedisNodeOptions {
  port: number;
  bindHost: string;
  announceHost?: string;
  paths: RedisNodePaths;
  /**
   * Where the users and the replication credentials live when not inline: an `aclfile`
   * (renderRedisAcl's output, then kept by the server's own ACL SAVE) and an included file
   * (renderRedisReplicationAuth's). A target that rotates passwords in place uses it: the
   * server's config then holds no secret, so a rotation changes no node's config.
   */
  auth?: { aclFile: string; includeFile: string };
}

/** The ACL password form Redis stores: `#` and the SHA-256 hex, so the plaintext is never rendered. */
function passwordHash(password: string): string {
  return `#${createHash("sha256").update(password, "utf8").digest("hex")}`;
}

/** A double-quoted redis.conf argument, so spaces, quotes and `#` survive the config parser. */
function redisString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
}

/** The commands oliver006/redis_exporter's README lists for a dedicated exporter user. */
const EXPORTER_COMMANDS =
  "+client +ping +info +config|get +cluster|info +slowlog +latency +memory +select +get +scan +xinfo +type " +
  "+pfcount +strlen +llen +scard +zcard +hlen +xlen +eval";

/** The ACL users; `default` is off so every client must name who it is. */
function aclLines(t: Topology): string[] {
  const { app, replication, admin, exporter } = t.redis.users;
  return [
    "user default off",
    // Everything an ioredis cluster client needs (Lua, pub/sub, slot discovery) but no admin or dangerous command.
    `user app on ${passwordHash(app.password)} ~* &* +@all -@admin -@dangerous ` +
      "+info +cluster|slots +cluster|shards +cluster|nodes +cluster|info",
    `user replication on ${passwordHash(replication.password)} +psync +replconf +ping`,
    `user admin on ${passwordHash(admin.password)} ~* &* +@all`,
    `user exporter on ${passwordHash(exporter.password)} ~* ${EXPORTER_COMMANDS}`,
  ];
}

/** The ACL file: one `user` line per user, as `aclfile` reads it (and ACL SAVE writes it). */
export function renderRedisAcl(t: Topology): string {
  return aclLines(t).join("\n") + "\n";
}

/** How a replica authenticates to its master; the only plaintext secret a node's config holds. */
function replicationAuthLines(t: Topology): string[] {
  return ["masteruser replication", `masterauth ${redisString(t.redis.users.replication.password)}`];
}

/** The replication credentials as a file of their own, for `include`. */
export function renderRedisReplicationAuth(t: Topology): string {
  return replicationAuthLines(t).join("\n") + "\n";
}

/** redis.conf for one cluster node: ACL users inline, or in the files `opts.auth` names. */
export function renderRedisConf(t: Topology, opts: RedisNodeOptions): string {
  const lines = [
    `port ${opts.port}`,
    `bind ${opts.bindHost}`,
    "protected-mode yes",
    // The supervisor (local stack, Docker, Kubernetes) owns the process.
    "daemonize no",
    `dir ${opts.paths.dir}`,
    `pidfile ${opts.paths.pidFile}`,
    `logfile ${opts.paths.logFile}`,
    "cluster-enabled yes",
    // Relative to `dir`: each node keeps its own view of the cluster.
    "cluster-config-file nodes.conf",
    `cluster-node-timeout ${t.redis.clusterNodeTimeoutMs}`,
  ];
  if (opts.announceHost !== undefined) lines.push(`cluster-announce-ip ${opts.announceHost}`);
  lines.push(
    // Loses at most about a second of writes on a crash; MySQL stays the source of truth.
    "appendonly yes",
    "appendfsync everysec",
    // A new or failed-over replica syncs at once instead of waiting the default 5 s for company.
    "repl-diskless-sync-delay 0",
    `maxmemory ${t.redis.maxMemoryMb}mb`,
    // Stock counters and reservations must never be evicted: refuse writes instead when full.
    "maxmemory-policy noeviction",
    ...(opts.auth === undefined
      ? [...aclLines(t), ...replicationAuthLines(t)]
      : [`aclfile ${opts.auth.aclFile}`, `include ${opts.auth.includeFile}`]),
  );
  return lines.join("\n") + "\n";
}

/** redis-cli arguments that form a cluster from `nodes`; the first nodes become the masters. */
export function redisClusterCreateArgs(nodes: HostPort[], replicasPerMaster: number): string[] {
  return [
    "--cluster",
    "create",
    ...nodes.map(hostPort),
    "--cluster-replicas",
    String(replicasPerMaster),
    "--cluster-yes",
  ];
}

/** How long a restarted node sits out before serving: long enough for its replica's failover to finish. */
export function redisRestartDelayMs(t: Topology): number {
  return 3 * t.redis.clusterNodeTimeoutMs;
}

/**
 * The command a container runs for one cluster node. On a restart (nodes.conf exists) it waits
 * `redisRestartDelayMs` first, as the local stack's supervisor does: a master back before its
 * replica is promoted keeps its slots with only what its AOF held, and the replica resyncs from
 * it — erasing writes the replica had acknowledged. Waiting makes it rejoin as a replica.
 */
export function redisContainerCommand(t: Topology, opts: { confFile: string; dataDir: string }): string[] {
  const seconds = Math.ceil(redisRestartDelayMs(t) / 1000);
  return [
    "sh",
    "-c",
    `if [ -f '${opts.dataDir}/nodes.conf' ]; then sleep ${seconds}; fi; exec redis-server '${opts.confFile}'`,
  ];
}

/**
 * The shell the cluster-forming job runs (Docker and Kubernetes; the password in REDISCLI_AUTH): forms the cluster only when every node still knows only
 * itself (so a re-run never touches a formed cluster), then waits for cluster_state:ok.
 */
export function clusterFormScript(nodes: HostPort[], replicasPerMaster: number, waitSeconds = 180): string {
  const cli = (n: HostPort) => `redis-cli --no-auth-warning --user admin -h ${n.host} -p ${n.port}`;
  const known = (n: HostPort) => `${cli(n)} cluster info | tr -d '\\r' | grep -q '^cluster_known_nodes:1$'`;
  const waitUp = nodes.map((n) =>
    boundedWait(`${cli(n)} ping | grep -q PONG`, `${hostPort(n)} answering PONG`, waitSeconds),
  );
  const clusterOk = `${cli(nodes[0])} cluster info | tr -d '\\r' | grep -q '^cluster_state:ok$'`;
  return [
    ...waitUp,
    `if ${nodes.map(known).join(" && ")}; then ${cli(nodes[0])} ${redisClusterCreateArgs(nodes, replicasPerMaster).join(" ")}; fi`,
    boundedWait(clusterOk, "cluster_state:ok", waitSeconds),
  ].join("\n");
}
