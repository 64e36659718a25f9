import path from "node:path";
import { hostPort, redisName } from "../../../topology";
import { clusterFormScript, redisRestartDelayMs, renderRedisConf } from "../../../render";
import { exitedMessage, run, writeConfig, type StackContext } from "../context";
import { waitFor } from "../wait";
import { clusterHealth, parseClusterInfo, redisAdmin } from "../../clients";

export { clusterHealth, parseClusterInfo, redisAdmin };

/**
 * Start every cluster node, form the cluster if it is new — with the forming script the Docker and
 * Kubernetes jobs run (clusterFormScript: each replica attached to its own shard's master, a formed
 * node left alone) — and wait until every master has its replicas linked.
 */
export async function startRedis(ctx: StackContext): Promise<void> {
  const nodes = ctx.addresses.redis;
  await Promise.all(
    nodes.map(async (node, i) => {
      const name = redisName(i);
      const dir = ctx.layout.dir(name);
      const conf = writeConfig(
        path.join(dir, "redis.conf"),
        renderRedisConf(ctx.topology, {
          port: node.port,
          bindHost: ctx.bindHost,
          paths: { dir, pidFile: path.join(dir, "redis.pid"), logFile: ctx.layout.log(name) },
        }),
      );
      ctx.supervisor.start({
        name,
        command: "redis-server",
        args: [conf],
        logFile: ctx.layout.log(`${name}.stdout`),
        address: hostPort(node),
        // As a container restart policy would: a crashed node comes back from its AOF and nodes.conf
        // and rejoins the cluster (a failed-over master as a replica of its successor).
        restart: true,
        // Not at once, though: a master back before its replica is promoted keeps its slots with
        // only what its AOF held (fsync every second), and the replica resyncs from it — erasing
        // writes the replica had acknowledged (WAIT). Staying down until the failover is done makes
        // it rejoin as a replica of its successor instead.
        restartDelayMs: redisRestartDelayMs(ctx.topology),
      });
      await waitFor(name, async () => (await redisAdmin(ctx, node, ["PING"])).trim() === "PONG", {
        timeoutMs: 15_000,
        gone: exitedMessage(ctx, name),
      });
    }),
  );
  ctx.progress(`redis: ${nodes.length} nodes answer PING`);

  const formed = Date.now();
  await run("sh", ["-c", clusterFormScript(nodes, ctx.topology.redis.replicasPerMaster, 60)], {
    env: { REDISCLI_AUTH: ctx.topology.redis.users.admin.password },
    timeoutMs: 120_000,
  });
  ctx.progress(`redis: cluster formed or found formed in ${Date.now() - formed} ms`);
  const ms = await waitFor("redis cluster", async () => (await clusterHealth(ctx)).ok, {
    timeoutMs: 30_000,
    intervalMs: 250,
  });
  ctx.progress(`redis cluster ok (${ctx.topology.redis.masters} masters) in ${ms} ms`);
}
