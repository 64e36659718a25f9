import path from "node:path";
import { hostPort, serviceEnv } from "../../../infra/topology";
import { exitedMessage, type StackContext } from "../context";
import { waitFor } from "../wait";
import { httpGet, servicePaths } from "./api";

/** Start the tracker (a stateless process: restarted if it dies) and wait until its /health answers 200. */
export async function startTracker(ctx: StackContext): Promise<void> {
  const name = "tracker";
  const address = ctx.addresses.tracker;
  ctx.supervisor.start({
    name,
    command: process.execPath,
    args: ["--import", "tsx", path.join("services", "src", "main", "tracker.ts")],
    cwd: ctx.repoRoot,
    env: serviceEnv(
      ctx.topology,
      ctx.addresses,
      { id: name, host: ctx.bindHost, port: address.port },
      servicePaths(ctx),
    ),
    logFile: ctx.layout.log(name),
    address: hostPort(address),
    restart: true,
    stopTimeoutMs: 15_000,
  });
  const ms = await waitFor(name, async () => (await httpGet(`http://${hostPort(address)}/health`)).status === 200, {
    timeoutMs: 60_000,
    intervalMs: 200,
    gone: exitedMessage(ctx, name),
  });
  ctx.progress(`${name} healthy in ${ms} ms`);
}
