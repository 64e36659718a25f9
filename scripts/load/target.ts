import { Cluster } from "ioredis";
import mysql from "mysql2/promise";
import { openTarget, type ProcessState, type Target } from "../../infra/targets";
import { roundRobin } from "./round-robin";

/**
 * The stack a load run (bench, chaos, their tests) drives: a Target, so what acts on it reaches the
 * target only through the seam — its topology and addresses, its processes' control.
 */
export type LoadTarget = Target;

/** The local stack running in `stateDir` (the test stack, a bench's or chaos run's stack). */
export function localLoadTarget(stateDir: string): LoadTarget {
  return openTarget({ target: "local", stateDir, stackFile: "" });
}

/** nginx's base URL: the way every client comes in. */
export const entryUrl = (t: LoadTarget) => `http://${t.addresses.nginx.host}:${t.addresses.nginx.port}`;

/** The base URL of one API replica (bypassing nginx). */
export const replicaUrl = (t: LoadTarget, index: number) => {
  const a = roundRobin(t.addresses.api, index, "API replica");
  return `http://${a.host}:${a.port}`;
};

/** A process of the stack (api-1, redis-3, worker-orders-1, rabbitmq, mysql-primary…) as its target sees it now. */
export async function processState(t: LoadTarget, name: string): Promise<ProcessState> {
  const found = (await t.control.list()).find((p) => p.name === name);
  if (!found) throw new Error(`no process ${name} in ${t.description}`);
  return found;
}

/** The pid of a running stack process where this machine sees it (the local stack, a local Docker engine). */
export async function hostPidOf(t: LoadTarget, name: string): Promise<number> {
  const p = await processState(t, name);
  if (p.hostPid === undefined) throw new Error(`${name} of ${t.description} runs nowhere this machine sees`);
  return p.hostPid;
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
