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
 * The variable naming the stable DNS name a node announces (a pod's name through its headless
 * Service, a container's name on its network). Where it is set, the node announces it
 * (`cluster-announce-hostname`), clients and redirections get it (`cluster-preferred-endpoint-type
 * hostname`), and nodes.conf carries it beside each address, so the start-up logic can rewrite
 * every address a restart changed. Where it is unset (the local stack), nodes stay on IPs.
 */
export const REDIS_HOSTNAME_ENV = "REDIS_ANNOUNCE_HOSTNAME";

/** How long a restarted node waits for its peers' names to resolve before starting with what resolved. */
export const REDIS_RESOLVE_WAIT_SECONDS = 30;

/**
 * The start-up logic, before redis-server, on a restart (nodes.conf exists): every entry of
 * nodes.conf that carries a hostname (Redis 7: `<id> <ip>:<port>@<cport>,<hostname> …`), its own
 * "myself" line and each peer's, gets the IPv4 address that name resolves to now. After every pod
 * restarted on a new IP, nodes.conf otherwise holds only dead addresses and no node finds another
 * (Bitnami's redis-cluster does the same with REDIS_CLUSTER_DYNAMIC_IPS). It waits up to
 * `resolveWaitSeconds` for every name: a peer that is not back yet keeps its old address, and
 * Redis takes its new one from its first PING once it is. Entries without a hostname are left as
 * they are, so nodes on fixed IPs are untouched. Then the restarted node sits out its replica's
 * failover (see redisContainerCommand).
 */
export function redisStartScript(
  t: Topology,
  opts: { confFile: string; dataDir: string; resolveWaitSeconds?: number },
): string {
  const seconds = Math.ceil(redisRestartDelayMs(t) / 1000);
  const wait = opts.resolveWaitSeconds ?? REDIS_RESOLVE_WAIT_SECONDS;
  // awk: field 2 is `ip:port@cport,hostname[,aux…]`; only the ip before `:port@cport` changes. The
  // first file (name → ip) is told by name, not NR == FNR, which an empty first file would fool.
  const hostname = 'c = index($2, ","); h = c > 0 ? substr($2, c + 1) : ""; sub(/,.*/, "", h)';
  const rewrite =
    `FILENAME == ARGV[1] { ip[$1] = $2; next } { ${hostname}; p = match($2, /:[0-9]+@[0-9]+/); ` +
    "if ((h in ip) && p > 0) $2 = ip[h] substr($2, p); print }";
  return [
    `conf='${opts.dataDir}/nodes.conf'`,
    'if [ -f "$conf" ]; then',
    `  names=$(awk '{ ${hostname}; if (h != "") print h }' "$conf")`,
    "  i=0",
    "  while :; do",
    '    : > "$conf.ips"; missing=0',
    "    for n in $names; do",
    `      ip=$(getent ahostsv4 "$n" | awk 'NR == 1 { print $1 }')`,
    '      if [ -n "$ip" ]; then echo "$n $ip" >> "$conf.ips"; else missing=1; fi',
    "    done",
    `    if [ "$missing" = 0 ] || [ "$i" -ge ${wait} ]; then break; fi`,
    "    i=$((i + 1)); sleep 1",
    "  done",
    `  awk '${rewrite}' "$conf.ips" "$conf" > "$conf.new" && mv "$conf.new" "$conf"`,
    '  echo "nodes.conf: $(wc -l < "$conf.ips") names resolved to their addresses now" >&2',
    '  rm -f "$conf.ips"',
    `  sleep ${seconds}`,
    "fi",
    `if [ -n "$${REDIS_HOSTNAME_ENV}" ]; then`,
    `  set -- --cluster-announce-hostname "$${REDIS_HOSTNAME_ENV}" --cluster-preferred-endpoint-type hostname`,
    "fi",
    `exec redis-server '${opts.confFile}' "$@"`,
  ].join("\n");
}

/**
 * The command a container runs for one cluster node: redisStartScript, then redis-server. On a
 * restart it waits `redisRestartDelayMs` first, as the local stack's supervisor does: a master
 * back before its replica is promoted keeps its slots with only what its AOF held, and the replica
 * resyncs from it — erasing writes the replica had acknowledged. Waiting makes it rejoin as a replica.
 */
export function redisContainerCommand(
  t: Topology,
  opts: { confFile: string; dataDir: string; resolveWaitSeconds?: number },
): ["sh", "-c", string] {
  return ["sh", "-c", redisStartScript(t, opts)];
}

/** One shard of the cluster: a master and its own replicas. */
export interface RedisShard {
  master: HostPort;
  replicas: HostPort[];
}

/**
 * The shards of `nodes` as every target lists them: the first `masters` nodes are the masters, and
 * node `masters + j` replicates master `j % masters` (redis-4 replicates redis-1 when there are 3).
 */
export function redisShards(nodes: HostPort[], masters: number): RedisShard[] {
  if (masters < 1 || nodes.length % masters !== 0)
    throw new Error(`${nodes.length} Redis nodes cannot form ${masters} equal shards`);
  return nodes.slice(0, masters).map((master, s) => ({
    master,
    replicas: nodes.slice(masters).filter((_, j) => j % masters === s),
  }));
}

/**
 * The shell the cluster-forming job runs (Docker and Kubernetes; the password in REDISCLI_AUTH):
 * creates the cluster from the masters only when every master still knows only itself, then adds
 * each replica that knows only itself to its own shard's master (`--cluster-slave
 * --cluster-master-id`), so a replica always belongs to its shard — the shard its placement keeps
 * apart from its master — not to the master redis-cli would pick. A re-run touches no formed node.
 * Nodes are named as the target addresses them (pod DNS names on Kubernetes), so the cluster forms
 * on names wherever the nodes announce them. Ends once cluster_state is ok.
 */
export function clusterFormScript(nodes: HostPort[], replicasPerMaster: number, waitSeconds = 180): string {
  const cli = (n: HostPort) => `redis-cli --no-auth-warning --user admin -h ${n.host} -p ${n.port}`;
  const known = (n: HostPort) => `${cli(n)} cluster info | tr -d '\\r' | grep -q '^cluster_known_nodes:1$'`;
  const shards = redisShards(nodes, nodes.length / (1 + replicasPerMaster));
  const masters = shards.map((s) => s.master);
  const [firstMaster] = masters;
  if (!firstMaster) throw new Error("no Redis node to form a cluster of");
  const waitUp = nodes.map((n) =>
    boundedWait(`${cli(n)} ping | grep -q PONG`, `${hostPort(n)} answering PONG`, waitSeconds),
  );
  const clusterOk = `${cli(firstMaster)} cluster info | tr -d '\\r' | grep -q '^cluster_state:ok$'`;
  // The shard's master now: its first node, or the node that node follows after a failover.
  const masterId = (first: HostPort) =>
    `${cli(first)} cluster nodes | tr -d '\\r' | awk '$3 ~ /myself/ { print ($3 ~ /master/ ? $1 : $4) }'`;
  const addReplicas = shards.flatMap(({ master, replicas }) =>
    replicas.map(
      (r) =>
        `if ${known(r)}; then id=$(${masterId(master)}); ` +
        `if [ -z "$id" ]; then echo "no master id from ${hostPort(master)}" >&2; exit 1; fi; ` +
        `${cli(master)} --cluster add-node ${hostPort(r)} ${hostPort(master)} --cluster-slave --cluster-master-id "$id" || exit 1; fi`,
    ),
  );
  return [
    ...waitUp,
    `if ${masters.map(known).join(" && ")}; then ${cli(firstMaster)} ${redisClusterCreateArgs(masters, 0).join(" ")} || exit 1; fi`,
    boundedWait(clusterOk, "cluster_state:ok", waitSeconds),
    ...addReplicas,
    boundedWait(clusterOk, "cluster_state:ok", waitSeconds),
  ].join("\n");
}
