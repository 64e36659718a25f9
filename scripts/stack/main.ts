/**
 * The local stack: every floodgate component as a plain process on 127.0.0.1, state under .floodgate/.
 * Usage: stack [up|status|stop [component]|start <component>|logs <component> [-f]] [--topology FILE]
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { hostPort } from "../../infra/topology";
import { StackLayout } from "./context";
import { StackControl } from "./control";
import { startStack, stopStale } from "./stack";
import { readState } from "./state";
import { isAlive } from "./supervisor";
import { formatTable } from "./table";
import { loadTopologyFile } from "./topology-file";

const HELP = `floodgate local stack

usage: npm start [-- --topology FILE]          start everything and stay in the foreground (Ctrl-C stops it)
       npm run stack -- status                  one line per process: component, pid, address, status
       npm run stack -- stop                    stop a stack running in another terminal
       npm run stack -- stop COMPONENT          stop one process of it (e.g. worker-orders-1)
       npm run stack -- start COMPONENT         start again a process that was stopped or died
                                                (e.g. mysql-primary after a crash; same config)
       npm run stack -- logs COMPONENT [-f]     print (or follow) one component's log

options:
  --topology FILE   YAML or JSON overrides of the topology defaults (also FLOODGATE_TOPOLOGY)
  --state-dir DIR   where state lives (default: .floodgate/local)
  -h, --help        this text`;

const repoRoot = path.resolve(__dirname, "..", "..");
const started = Date.now();
const say = (message: string) =>
  process.stdout.write(`[stack +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);

async function up(topologyFile: string | undefined, layout: StackLayout): Promise<void> {
  const topology = loadTopologyFile(topologyFile); // a bad topology stops here, before any process starts
  // A bug must not orphan the stack: stop everything the state file lists, then exit.
  process.on("uncaughtException", (err) => {
    process.stderr.write(`unexpected error: ${err.stack ?? err.message}\nstopping the stack\n`);
    void stopStale(layout).finally(() => process.exit(1));
  });
  say(
    `starting ${topology.api.replicas} API replicas, ${topology.mysql.replicas} MySQL replica(s), ${topology.redis.masters}×${1 + topology.redis.replicasPerMaster} Redis nodes`,
  );
  const stack = await startStack(topology, { root: layout.root, repoRoot, progress: say });
  const rows = [...stack.supervisor.processes.values()].map((m) => [
    m.spec.name,
    String(m.pid),
    m.spec.address ?? "",
    "healthy",
  ]);
  process.stdout.write(`\n${formatTable(["component", "pid", "address", "status"], rows)}\n\n`);
  say(`floodgate is up: http://${hostPort(stack.addresses.nginx)}/api/v1/health — Ctrl-C stops everything`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping every component`);
    await stack.stop();
    say("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
}

function status(layout: StackLayout): number {
  const state = readState(layout.stateFile);
  if (!state) {
    process.stdout.write(`no stack is running in ${layout.root}\n`);
    return 3;
  }
  const owner = isAlive(state.ownerPid) ? "running" : "owner gone (run: npm run stack -- stop)";
  process.stdout.write(
    `stack in ${layout.root}, started ${state.startedAt}, supervisor pid ${state.ownerPid}: ${owner}\n\n`,
  );
  const rows = state.processes.map((p) => [p.name, String(p.pid), p.address, isAlive(p.pid) ? "running" : "exited"]);
  process.stdout.write(`${formatTable(["component", "pid", "address", "status"], rows)}\n`);
  return rows.every((r) => r[3] === "running") ? 0 : 1;
}

async function stop(layout: StackLayout): Promise<number> {
  const state = readState(layout.stateFile);
  if (!state) {
    process.stdout.write("no stack is running\n");
    return 0;
  }
  if (isAlive(state.ownerPid)) {
    process.kill(state.ownerPid, "SIGTERM");
    while (isAlive(state.ownerPid)) await new Promise((r) => setTimeout(r, 100));
  }
  await stopStale(layout); // whatever the owner did not get to
  process.stdout.write("stack stopped\n");
  return 0;
}

/** Stop or start one process through the owner's control socket. */
async function one(layout: StackLayout, action: "start" | "stop", component: string): Promise<number> {
  const state = readState(layout.stateFile);
  if (!state?.controlSocket || !isAlive(state.ownerPid)) {
    process.stderr.write(`no running stack in ${layout.root} to ${action} ${component} in\n`);
    return 3;
  }
  const control = new StackControl(state.controlSocket);
  const known = (await control.list()).map((p) => p.name);
  if (!known.includes(component)) {
    process.stderr.write(`unknown component ${component}; components: ${known.join(", ")}\n`);
    return 2;
  }
  const after = await control[action](component);
  process.stdout.write(`${component}: ${after.running ? `running, pid ${after.pid}` : "stopped"}\n`);
  return 0;
}

function logs(layout: StackLayout, component: string | undefined, follow: boolean): Promise<number> {
  const dir = path.join(layout.root, "logs");
  const available = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => f.replace(/\.log$/, "")) : [];
  if (!component || !available.includes(component)) {
    process.stderr.write(
      `usage: npm run stack -- logs COMPONENT [-f]; components: ${available.join(", ") || "(none yet)"}\n`,
    );
    return Promise.resolve(2);
  }
  const tail = spawn("tail", ["-n", "200", ...(follow ? ["-F"] : []), path.join(dir, `${component}.log`)], {
    stdio: "inherit",
  });
  return new Promise((resolve) => tail.on("exit", (code) => resolve(code ?? 0)));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      topology: { type: "string" },
      "state-dir": { type: "string" },
      follow: { type: "boolean", short: "f" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command = "up", arg] = positionals;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const layout = new StackLayout(path.resolve(values["state-dir"] ?? path.join(repoRoot, ".floodgate", "local")));
  switch (command) {
    case "up":
      return up(values.topology ?? process.env.FLOODGATE_TOPOLOGY, layout);
    case "status":
      process.exitCode = status(layout);
      return;
    case "stop":
      process.exitCode = arg ? await one(layout, "stop", arg) : await stop(layout);
      return;
    case "start":
      if (!arg) {
        process.stderr.write(`usage: npm run stack -- start COMPONENT\n`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await one(layout, "start", arg);
      return;
    case "logs":
      process.exitCode = await logs(layout, arg, values.follow ?? false);
      return;
    default:
      process.stderr.write(`unknown command ${command}\n\n${HELP}\n`);
      process.exitCode = 2;
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
