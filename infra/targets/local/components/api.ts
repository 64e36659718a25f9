import http from "node:http";
import path from "node:path";
import { apiName, hostPort, serviceEnv, type HostPort, type ServicePaths } from "../../../topology";
import { exitedMessage, run, type StackContext } from "../context";
import { waitFor } from "../wait";

/** GET a URL on loopback and return status and body; no keep-alive, so no socket outlives the probe. */
export function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** The local stack's static bucket: a directory that nginx serves under /static/. */
export function servicePaths(ctx: StackContext): ServicePaths {
  return { staticDir: ctx.layout.staticRoot, staticBaseUrl: "/static/" };
}

/** One of floodgate's own Node services: its entry file, address and health path. */
export interface NodeService {
  name: string;
  entry: string;
  address: HostPort;
  healthPath: string;
  /** For queue workers: messages handled at once. */
  concurrency?: number;
  /** Background services run niced (see ProcessSpec.nice). */
  nice?: number;
}

/** The niceness of services whose work may lag behind a burst: queue workers and the tracker. */
export const BACKGROUND_NICE = 10;

/** Start a floodgate service (stateless: restarted if it dies) and wait until its health answers 200. */
export async function startNodeService(ctx: StackContext, s: NodeService): Promise<void> {
  ctx.supervisor.start({
    name: s.name,
    command: process.execPath,
    args: ["--import", "tsx", path.join("services", "src", "main", s.entry)],
    cwd: ctx.repoRoot,
    env: serviceEnv(
      ctx.topology,
      ctx.addresses,
      { id: s.name, host: ctx.bindHost, port: s.address.port, concurrency: s.concurrency },
      servicePaths(ctx),
    ),
    logFile: ctx.layout.log(s.name),
    address: hostPort(s.address),
    restart: true,
    stopTimeoutMs: 15_000,
    nice: s.nice,
  });
  const url = `http://${hostPort(s.address)}${s.healthPath}`;
  const ms = await waitFor(s.name, async () => (await httpGet(url)).status === 200, {
    timeoutMs: 60_000,
    intervalMs: 200,
    gone: exitedMessage(ctx, s.name),
  });
  ctx.progress(`${s.name} healthy in ${ms} ms`);
}

/** Start one API replica and wait until its readiness (/api/v1/health, as Docker and Kubernetes probe it) is 200. */
export function startApiReplica(ctx: StackContext, index: number, address: HostPort): Promise<void> {
  return startNodeService(ctx, { name: apiName(index), entry: "api.ts", address, healthPath: "/api/v1/health" });
}

/** Apply database migrations and seed the administrator, as the migrator user, once before the API serves. */
export async function runMigrations(ctx: StackContext): Promise<void> {
  const t = ctx.topology;
  const env = {
    ...serviceEnv(t, ctx.addresses, { id: "migrate", host: ctx.bindHost, port: t.api.basePort }, servicePaths(ctx)),
    MYSQL_USER: t.mysql.users.migrator.name,
    MYSQL_PASSWORD: t.mysql.users.migrator.password,
    ADMIN_USERNAME: t.api.admin.username,
    ADMIN_PASSWORD: t.api.admin.password,
  };
  const started = Date.now();
  await run(process.execPath, ["--import", "tsx", path.join("services", "src", "main", "migrate.ts")], {
    env,
    cwd: ctx.repoRoot,
    timeoutMs: 60_000,
  });
  ctx.progress(`migrations applied and administrator "${t.api.admin.username}" seeded in ${Date.now() - started} ms`);
}

/** Start every API replica in parallel (after migrations). */
export async function startApi(ctx: StackContext): Promise<void> {
  await runMigrations(ctx);
  await Promise.all(ctx.addresses.api.map((address, i) => startApiReplica(ctx, i, address)));
}
