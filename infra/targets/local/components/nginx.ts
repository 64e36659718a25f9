import fs from "node:fs";
import path from "node:path";
import { hostPort } from "../../../topology";
import { renderNginxConf } from "../../../render";
import { exitedMessage, run, writeConfig, type StackContext } from "../context";
import { waitFor } from "../wait";
import { httpGet } from "./api";

/** Render nginx.conf into the nginx prefix and return its path. */
export function writeNginxConf(ctx: StackContext): string {
  const prefix = ctx.layout.dir("nginx");
  fs.mkdirSync(path.join(prefix, "logs"), { recursive: true });
  const conf = renderNginxConf(ctx.topology, ctx.addresses, {
    bindHost: ctx.bindHost,
    // As root, nginx would drop workers to "nobody", who cannot read the 0700 state folder.
    user: process.getuid?.() === 0 ? "root" : undefined,
    paths: {
      prefix,
      staticRoot: ctx.layout.staticRoot,
      pidFile: path.join(prefix, "nginx.pid"),
      errorLog: ctx.layout.log("nginx"),
      accessLog: ctx.layout.log("nginx-access"),
    },
  });
  return writeConfig(path.join(prefix, "nginx.conf"), conf);
}

/** nginx's own command-line arguments for this stack (prefix, error log before config is read, config). */
export function nginxArgs(ctx: StackContext, conf: string): string[] {
  const prefix = ctx.layout.dir("nginx");
  return ["-p", `${prefix}/`, "-e", ctx.layout.log("nginx"), "-c", conf];
}

/** Check the config with `nginx -t`, start nginx, and wait until the API answers through it. */
export async function startNginx(ctx: StackContext): Promise<void> {
  const conf = writeNginxConf(ctx);
  await run("nginx", [...nginxArgs(ctx, conf), "-t", "-q"]);
  ctx.supervisor.start({
    name: "nginx",
    command: "nginx",
    args: nginxArgs(ctx, conf),
    logFile: ctx.layout.log("nginx.stdout"),
    address: hostPort(ctx.addresses.nginx),
    stopSignal: "SIGQUIT", // graceful: finish in-flight requests
  });
  const url = `http://${hostPort(ctx.addresses.nginx)}/api/v1/health`;
  const ms = await waitFor("nginx", async () => (await httpGet(url)).status === 200, {
    timeoutMs: 15_000,
    gone: exitedMessage(ctx, "nginx"),
  });
  ctx.progress(`nginx serving ${url} in ${ms} ms`);
}
