/**
 * Reaching the stores by address, as the app does, on every target: what the local stack's start-up,
 * runbooks, chaos and tests share.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { $ } from "zx";
import { hostPort, type Addresses, type HostPort, type Topology } from "../topology";

/** redis-cli as the admin ACL user (the password in REDISCLI_AUTH, never in arguments): its stdout. */
export async function redisAdmin(ctx: { topology: Topology }, node: HostPort, args: string[]): Promise<string> {
  const env = { ...$.env, REDISCLI_AUTH: ctx.topology.redis.users.admin.password };
  const out = await $({
    env,
    quiet: true,
    timeout: "30s",
  })`redis-cli -h ${node.host} -p ${node.port} --user admin --no-auth-warning ${args}`;
  return out.stdout;
}

/** `CLUSTER INFO` (or any `key:value` lines) as a map. */
export function parseClusterInfo(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(":"))
      .map((line) => line.trim().split(":") as [string, string]),
  );
}

/**
 * Whether the Redis cluster is whole: every node reports cluster_state:ok, and there are the
 * topology's masters, each with its replicas linked. `detail` says what is short.
 */
export async function clusterHealth(ctx: {
  topology: Topology;
  addresses: Addresses;
}): Promise<{ ok: boolean; detail: string }> {
  const { masters, replicasPerMaster } = ctx.topology.redis;
  const nodes = ctx.addresses.redis;
  const infos = await Promise.all(
    nodes.map(async (node) => ({ node, info: parseClusterInfo(await redisAdmin(ctx, node, ["CLUSTER", "INFO"])) })),
  );
  const notOk = infos.find(({ info }) => info.cluster_state !== "ok");
  if (notOk) return { ok: false, detail: `${hostPort(notOk.node)} cluster_state=${notOk.info.cluster_state}` };
  const replications = await Promise.all(nodes.map((n) => redisAdmin(ctx, n, ["INFO", "replication"])));
  const roles = replications.map((r) => /role:(\w+)/.exec(r)?.[1]);
  const linked = replications.filter((r) => /master_link_status:up/.test(r)).length;
  const masterCount = roles.filter((r) => r === "master").length;
  const ok = masterCount === masters && linked === masters * replicasPerMaster;
  return { ok, detail: `${masterCount} masters, ${linked} replicas linked` };
}

/** The AMQP URL for a user of the stack's vhost. */
export function amqpUrl(ctx: { topology: Topology; addresses: Addresses }, user: "app" | "admin"): string {
  const r = ctx.topology.rabbitmq;
  const { name, password } = r.users[user];
  const a = ctx.addresses.rabbitmq;
  return `amqp://${encodeURIComponent(name)}:${encodeURIComponent(password)}@${a.host}:${a.port}/${encodeURIComponent(r.vhost)}`;
}

/** One row of `mariadb --vertical` output as a field → value map. */
export function parseVerticalRow(out: string): Record<string, string> {
  const pairs = out.split("\n").flatMap((line) => {
    const m = /^\s*(\w+): ?(.*)$/.exec(line);
    return m ? [[m[1], m[2]] as const] : [];
  });
  return Object.fromEntries(pairs);
}

/**
 * A Unix socket's path in `dir`. Such paths are limited to 107 bytes; a deep checkout falls back to
 * a short private folder under the temp dir, named by a hash of `dir`.
 */
export function unixSocketPath(dir: string, file: string): string {
  const preferred = path.join(dir, file);
  if (preferred.length < 100) return preferred;
  const short = path.join(os.tmpdir(), `floodgate-${createHash("sha1").update(dir).digest("hex").slice(0, 12)}`);
  fs.mkdirSync(short, { recursive: true, mode: 0o700 });
  return path.join(short, file);
}
