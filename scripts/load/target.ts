import { Cluster } from "ioredis";
import mysql from "mysql2/promise";
import { localAddresses, type Addresses, type Topology } from "../../infra/topology";
import { StackLayout } from "../../infra/targets/local/context";
import { StackControl } from "../../infra/targets/local/control";
import { startStack, type RunningStack } from "../../infra/targets/local/stack";
import { readState } from "../../infra/targets/local/state";
import { isAlive } from "../../infra/targets/local/supervisor";
import { roundRobin } from "./round-robin";

/** A local stack that load runs (bench, chaos, their tests) drive: its topology, addresses and folder. */
export interface LoadTarget {
  topology: Topology;
  addresses: Addresses;
  layout: StackLayout;
}

/** A target built from a topology and the stack folder it runs in. */
export function loadTarget(topology: Topology, root: string): LoadTarget {
  return { topology, addresses: localAddresses(topology), layout: new StackLayout(root) };
}

/** nginx's base URL: the way every client comes in. */
export const entryUrl = (t: LoadTarget) => `http://127.0.0.1:${t.addresses.nginx.port}`;

/** The base URL of one API replica (bypassing nginx). */
export const replicaUrl = (t: LoadTarget, index: number) =>
  `http://127.0.0.1:${roundRobin(t.addresses.api, index, "API replica").port}`;

/** The stack's process supervisor, through its control socket. */
export function stackControl(t: LoadTarget): StackControl {
  const state = readState(t.layout.stateFile);
  if (!state?.controlSocket) throw new Error(`no stack with a control socket is running in ${t.layout.root}`);
  return new StackControl(state.controlSocket);
}

/** The pid of a stack process (api-1, redis-3, worker-orders-1, rabbitmq, mysql-primary…), from the state file. */
export function stackPid(t: LoadTarget, name: string): number {
  const found = readState(t.layout.stateFile)?.processes.find((p) => p.name === name);
  if (!found) throw new Error(`no process ${name} in the stack at ${t.layout.root}`);
  return found.pid;
}

/** A MySQL connection to the primary as the migrator (arranging data and checking invariants). */
export function primaryConnection(t: LoadTarget): Promise<mysql.Connection> {
  const { name, password } = t.topology.mysql.users.migrator;
  const { host, port } = t.addresses.mysqlPrimary;
  return mysql.createConnection({ host, port, user: name, password, database: t.topology.mysql.database });
}

/** A Redis Cluster client as the app's ACL user (disconnect it when done). */
export function appRedis(t: LoadTarget): Cluster {
  return new Cluster(t.addresses.redis, {
    redisOptions: { username: "app", password: t.topology.redis.users.app.password },
  });
}

/** Run `fn` on a fresh primary connection, closed afterwards. */
export async function onPrimary<T>(t: LoadTarget, fn: (conn: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = await primaryConnection(t);
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

/**
 * Start a stack for `topology` in `root`, or reuse the one already running there (its owner alive).
 * `stop` stops only a stack this call started.
 */
export async function startOrReuse(
  topology: Topology,
  opts: { root: string; repoRoot: string; reuse: boolean; progress: (m: string) => void },
): Promise<{ target: LoadTarget; reused: boolean; stop: () => Promise<void> }> {
  const state = readState(new StackLayout(opts.root).stateFile);
  if (opts.reuse && state && isAlive(state.ownerPid)) {
    opts.progress(`reusing the stack in ${opts.root} (owner pid ${state.ownerPid})`);
    return { target: loadTarget(state.topology ?? topology, opts.root), reused: true, stop: async () => undefined };
  }
  const running: RunningStack = await startStack(topology, {
    root: opts.root,
    repoRoot: opts.repoRoot,
    fresh: true,
    progress: opts.progress,
  });
  return { target: loadTarget(topology, opts.root), reused: false, stop: () => running.stop() };
}

/** Poll until `probe` returns a value, or fail after `timeoutMs` with the last error. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = "no value";
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`);
}
