import path from "node:path";
import type { BackupConfig } from "./config";
import { splitHostPort } from "./config";
import { exec } from "./exec";

/**
 * RDB snapshots of every master of the Redis Cluster (`redis-cli --rdb`: the node forks and
 * streams a point-in-time snapshot). Masters are found from CLUSTER NODES on the first node that
 * answers; each master's file is named after its slot ranges so a restore knows where it belongs.
 */
export async function backupRedis(config: BackupConfig, work: string): Promise<{ source: string }> {
  const cli = (node: string, args: string[], stdoutFile?: string) => {
    const { host, port } = splitHostPort(node);
    return exec(
      "redis-cli",
      ["-h", host, "-p", String(port), "--user", config.BACKUP_REDIS_USER, "--no-auth-warning", ...args],
      { env: { REDISCLI_AUTH: config.BACKUP_REDIS_PASSWORD }, stdoutFile },
    );
  };
  let nodes: string | undefined;
  let lastError: Error | undefined;
  for (const node of config.BACKUP_REDIS_NODES) {
    try {
      nodes = await cli(node, ["CLUSTER", "NODES"]);
      break;
    } catch (err) {
      lastError = err as Error;
    }
  }
  if (nodes === undefined) throw new Error(`no Redis node answered: ${lastError?.message}`);
  const masters = nodes
    .trim()
    .split("\n")
    .flatMap((line) => {
      // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>…
      const [, endpoint = "", flags = "", , , , , , ...slots] = line.split(" ");
      const healthy = flags.includes("master") && !flags.includes("fail") && slots.length > 0;
      return healthy ? [{ address: endpoint.replace(/@.*/, ""), slots: slots.join("_") }] : [];
    });
  if (masters.length === 0) throw new Error("the cluster reports no healthy master");
  for (const { address, slots } of masters) await cli(address, ["--rdb", path.join(work, `slots-${slots}.rdb`)]);
  return { source: masters.map((m) => m.address).join(",") };
}
