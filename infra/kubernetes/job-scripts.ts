import { redisClusterCreateArgs } from "../render";
import type { HostPort } from "../topology";

/** A shell script: wait for `server`, then (when `guard` prints nothing, or without a guard) run the SQL file as root. */
export function sqlJobScript(server: HostPort, sqlFile: string, guard?: string): string {
  const client = `mariadb -h ${server.host} -P ${server.port} -uroot`;
  const wait = `until ${client} -e 'SELECT 1' >/dev/null; do sleep 2; done`;
  const apply = `${client} < ${sqlFile}`;
  return guard ? `${wait}; if [ -z "$(${client} -e '${guard}')" ]; then ${apply}; fi` : `${wait}; ${apply}`;
}

/** The one-shot script forming the cluster; it only creates one when no node knows another yet, so it is safe to re-run. */
export function formClusterScript(nodes: HostPort[], replicasPerMaster: number): string {
  const cli = (n: HostPort) => `redis-cli -h ${n.host} -p ${n.port} --user admin --no-auth-warning`;
  const waits = nodes.map((n) => `until ${cli(n)} PING | grep -q PONG; do sleep 2; done`);
  const formed = nodes.map((n) => `${cli(n)} CLUSTER INFO | grep -q '^cluster_known_nodes:1\\s*$' || formed=1`);
  const create = `${cli(nodes[0])} ${redisClusterCreateArgs(nodes, replicasPerMaster).join(" ")}`;
  return [...waits, "formed=0", ...formed, `if [ "$formed" = 0 ]; then ${create}; fi`].join("\n");
}
