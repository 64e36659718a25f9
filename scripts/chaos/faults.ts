import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { NAMES, redisName } from "../../infra/topology";
import { clusterHealth, redisAdmin } from "../../infra/targets";
import { eventually, processState, type LoadTarget } from "../load/target";

/** One fault: injected into a running storm, then recovered the way on-call would. */
export interface Fault {
  id: string;
  title: string;
  /** Break something; `key` is a Redis key of the storm's sale or packet (its slot's master is the victim). */
  inject(t: LoadTarget, key: string): Promise<void>;
  /** Bring the stack back to whole: every process up, Redis with a replica per master. */
  recover(t: LoadTarget): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The stack name (redis-N) of the master serving the hash slot of `key`, as node `via` (an index
 * into the stack's Redis nodes) sees it: ask a node that is not frozen (redis-cli waits on one).
 */
export async function masterOfKey(t: LoadTarget, key: string, via = 0): Promise<string> {
  const ctx = { topology: t.topology };
  const asked = t.addresses.redis[via];
  if (!asked) throw new Error(`no Redis node ${via}: the stack has ${t.addresses.redis.length}`);
  const slot = Number(await redisAdmin(ctx, asked, ["CLUSTER", "KEYSLOT", key]));
  // CLUSTER NODES: id, ip:port@cport, flags, master, ping, pong, epoch, link, then the slots served.
  const nodes = (await redisAdmin(ctx, asked, ["CLUSTER", "NODES"]))
    .trim()
    .split("\n")
    .map((l) => l.split(" "));
  const owner = nodes.find((fields) => {
    const flags = fields[2] ?? "";
    return (
      flags.includes("master") &&
      !flags.includes("fail") &&
      fields.slice(8).some((range) => {
        const [from, to = from] = range.split("-").map(Number);
        return from !== undefined && to !== undefined && slot >= from && slot <= to;
      })
    );
  });
  if (!owner) throw new Error(`no master serves the slot of ${key}`);
  const address = owner[1] ?? "";
  const port = Number(/:(\d+)@/.exec(address)?.[1]);
  const index = t.addresses.redis.findIndex((a) => a.port === port);
  if (index < 0) throw new Error(`the master serving the slot of ${key} (${address}) is no node of this stack`);
  return redisName(index);
}

/** Until the cluster has every master with a linked replica again (a killed node restarts and rejoins). */
export async function redisWhole(t: LoadTarget): Promise<void> {
  await eventually(async () => ((await clusterHealth(t)).ok ? true : undefined), 90_000, 500);
}

/** The instance (targets/target.ts) a process of the stack runs as now: what a restart changes. */
async function instanceOf(t: LoadTarget, name: string): Promise<string> {
  const p = await processState(t, name);
  if (!p.running || p.instance === undefined) throw new Error(`${name} is not running on ${t.description}`);
  return p.instance;
}

/** Until the target runs a new instance of that name (the platform restarts stateless processes and Redis). */
async function restarted(t: LoadTarget, name: string, old: string) {
  await eventually(async () => {
    const p = await processState(t, name);
    return p.running && p.instance !== undefined && p.instance !== old ? true : undefined;
  }, 60_000);
}

/** SIGKILL of a process the platform restarts by itself. */
function killRestarted(id: string, title: string, name: string): Fault {
  let victim = "";
  return {
    id,
    title,
    async inject(t) {
      victim = await instanceOf(t, name);
      await t.control.signal(name, "SIGKILL");
    },
    recover: (t) => restarted(t, name, victim),
  };
}

/** SIGKILL of the Redis master holding the storm's slot; its replica takes over, the node restarts as a replica. */
export const redisMasterKill: Fault = {
  id: "redis-master-kill",
  title: "SIGKILL of the Redis master holding the sale or packet",
  async inject(t, key) {
    await t.control.signal(await masterOfKey(t, key), "SIGKILL");
  },
  recover: redisWhole,
};

/** SIGSTOP of that master for longer than the cluster's node timeout (its replica takes over), then SIGCONT. */
export function redisMasterStop(stoppedMs = 6000): Fault {
  let victim = "";
  const thaw = (t: LoadTarget) => t.control.signal(victim, "SIGCONT");
  return {
    id: "redis-master-stop",
    title: `SIGSTOP of the Redis master holding the sale for ${stoppedMs / 1000} s`,
    async inject(t, key) {
      victim = await masterOfKey(t, key);
      await t.control.signal(victim, "SIGSTOP");
      // Thawed on a timer, as a stalled VM or a long fork would: the storm goes on meanwhile.
      setTimeout(() => void thaw(t).catch(() => undefined), stoppedMs).unref();
    },
    async recover(t) {
      await sleep(stoppedMs);
      await thaw(t); // a no-op when the timer already did
      await redisWhole(t);
    },
  };
}

/** SIGKILL of one orders worker mid-storm. */
export const ordersWorkerKill = killRestarted("orders-worker-kill", "SIGKILL of an orders worker", "worker-orders-1");
/** SIGKILL of one red-packet grab worker mid-storm. */
export const grabWorkerKill = killRestarted(
  "grab-worker-kill",
  "SIGKILL of a red-packet worker",
  "worker-red-packet-grabs-1",
);
/** SIGKILL of one API replica mid-storm (nginx sends its requests to the other). */
export const apiReplicaKill = killRestarted("api-replica-kill", "SIGKILL of an API replica", "api-1");

/**
 * SIGKILL of RabbitMQ mid-storm — its Erlang VM too: the target signals the whole process tree (on
 * the local stack, the wrapper script's process group) — until the platform runs it again.
 */
export const rabbitmqKill = killRestarted("rabbitmq-kill", "SIGKILL of RabbitMQ", "rabbitmq");

/** SIGKILL of the MariaDB primary mid-storm, recovered by on-call's failover runbook. */
export function mysqlPrimaryKill(repoRoot: string): Fault {
  return {
    id: "mysql-primary-kill",
    title: "SIGKILL of the MariaDB primary, then the mysql-failover runbook",
    async inject(t) {
      await t.control.signal(NAMES.mysqlPrimary, "SIGKILL");
    },
    async recover(t) {
      await sleep(1000); // on-call is paged; the workers hold their messages meanwhile
      const args = ["--import", "tsx", path.join("runbooks", "main.ts"), "mysql-failover", "--apply", "--yes"];
      await promisify(execFile)(process.execPath, [...args, ...t.selfArgs], {
        cwd: repoRoot,
        timeout: 180_000,
      }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`mysql-failover runbook failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
      });
    },
  };
}
