/**
 * The local stack: every floodgate component as a plain process on 127.0.0.1, state under .floodgate/.
 * Usage: stack [up|status|stop [component]|start <component>|logs <component> [-f]] [--topology FILE]
 *        [--port-offset N] [--state-dir DIR] [--timeout SECONDS]
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { hostPort, listPorts, withPortOffset } from "../../topology";
import { StackLayout } from "./context";
import { StackControl } from "./control";
import { startStack, stopStale, type RunningStack } from "./stack";
import { readState } from "./state";
import { isAlive, isStopped, stopDescendants } from "./supervisor";
import { formatTable } from "../text-table";
import { loadTopologyFile } from "./topology-file";

const HELP = `floodgate local stack

usage: npm start [-- --topology FILE]          start everything and stay in the foreground; Ctrl-C, at any
                                                moment of start-up too, stops everything it started
       npm run stack -- status                  one line per process: component, pid, address, status
       npm run stack -- stop                    stop a stack running in another terminal (its owner has
                                                --timeout to stop it; then stop kills the owner and stops
                                                the processes it recorded itself)
       npm run stack -- stop COMPONENT          stop one process of it (e.g. worker-orders-1)
       npm run stack -- start COMPONENT         start again a process that was stopped or died
                                                (e.g. mysql-primary after a crash; same config)
       npm run stack -- logs COMPONENT [-f]     print (or follow) one component's log

options:
  --topology FILE   YAML or JSON overrides of the topology defaults (also FLOODGATE_TOPOLOGY)
  --port-offset N   every port of the topology moved N up (a second stack beside the first; default 0)
  --state-dir DIR   where state lives (default: .floodgate/local)
  --timeout SECONDS how long stop waits for the stack's owner (default 60)
  -h, --help        this text`;

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const started = Date.now();

/**
 * A writer that never throws and never raises: when the reader of a pipe has gone (`npm start | tee`,
 * then Ctrl-C) or the terminal has (EPIPE, EIO), output is dropped, and the owner goes on stopping
 * its components instead of failing on every line it prints.
 */
function guardedWriter(stream: NodeJS.WriteStream): (text: string) => void {
  let broken = false;
  stream.on("error", () => (broken = true));
  return (text) => {
    if (broken) return;
    try {
      stream.write(text);
    } catch {
      broken = true;
    }
  };
}
const print = guardedWriter(process.stdout);
const printError = guardedWriter(process.stderr);
const say = (message: string) => print(`[stack +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);

/** An error writing our own output: it must not stop the stack, nor be reported on the same broken stream. */
const isOutputError = (e: unknown) =>
  ["EPIPE", "EIO", "ERR_STREAM_DESTROYED"].includes((e as NodeJS.ErrnoException)?.code ?? "");

/** Exit codes of an owner interrupted during start-up: 128 + the signal's number, as a shell reports it. */
const INTERRUPTED_EXIT: Record<"SIGHUP" | "SIGINT" | "SIGTERM", number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * Start the stack and stay in the foreground. The signal handlers come first: a signal at any point,
 * from the first line of start-up on, stops every component started so far and then exits.
 */
async function up(topologyFile: string | undefined, portOffset: number, layout: StackLayout): Promise<void> {
  const interrupt = new AbortController();
  let stack: RunningStack | undefined;
  let exitCode: number | undefined;
  const exitAfter = async (stopping: Promise<unknown>) => {
    await stopping.catch((e: Error) => printError(`while stopping: ${e.message}\n`));
    await stopDescendants(); // commands a start-up step was still running
    say("stopped");
    process.exit(exitCode);
  };
  const requestStop = (why: string, code: number) => {
    if (exitCode !== undefined) return say(`${why}: already stopping`);
    exitCode = code;
    say(`${why}: stopping every component`);
    if (stack) void exitAfter(stack.stop());
    else interrupt.abort(new Error(`interrupted by ${why}`)); // startStack stops what it started
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => requestStop(signal, stack ? 0 : INTERRUPTED_EXIT[signal]));
  }
  // A bug must not orphan the stack either; our own output failing is no bug (see guardedWriter).
  process.on("uncaughtException", (e) => {
    if (isOutputError(e)) return;
    printError(`unexpected error: ${e.stack ?? e.message}\n`);
    requestStop("unexpected error", 1);
  });

  // A bad topology (or offset) stops here, before any process starts.
  const topology = withPortOffset(loadTopologyFile(topologyFile), portOffset);
  const tooHigh = listPorts(topology).find(([, port]) => port > 65535);
  if (tooHigh) throw new Error(`--port-offset ${portOffset} moves ${tooHigh[0]} to ${tooHigh[1]}, above 65535`);
  say(
    `starting ${topology.api.replicas} API replicas, ${topology.mysql.replicas} MySQL replica(s), ${topology.redis.masters}×${1 + topology.redis.replicasPerMaster} Redis nodes`,
  );
  try {
    stack = await startStack(topology, { root: layout.root, repoRoot, progress: say, signal: interrupt.signal });
  } catch (e) {
    if (exitCode === undefined) throw e; // start-up failed on its own; startStack stopped what it started
    return exitAfter(Promise.resolve()); // interrupted; startStack stopped what it started
  }
  if (exitCode !== undefined) return exitAfter(stack.stop()); // asked to stop as start-up completed
  const rows = [...stack.supervisor.processes.values()].map((m) => [
    m.spec.name,
    String(m.pid),
    m.spec.address ?? "",
    "healthy",
  ]);
  print(`\n${formatTable(["component", "pid", "address", "status"], rows)}\n\n`);
  say(`floodgate is up: http://${hostPort(stack.addresses.nginx)}/api/v1/health — Ctrl-C stops everything`);
}

function status(layout: StackLayout): number {
  const state = readState(layout.stateFile);
  if (!state) {
    print(`no stack is running in ${layout.root}\n`);
    return 3;
  }
  const owner = isAlive(state.ownerPid) ? "running" : "owner gone (run: npm run stack -- stop)";
  print(`stack in ${layout.root}, started ${state.startedAt}, supervisor pid ${state.ownerPid}: ${owner}\n\n`);
  const rows = state.processes.map((p) => [p.name, String(p.pid), p.address, isAlive(p.pid) ? "running" : "exited"]);
  print(`${formatTable(["component", "pid", "address", "status"], rows)}\n`);
  return rows.every((r) => r[3] === "running") ? 0 : 1;
}

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // gone meanwhile
  }
};

async function whileAlive(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Stop a stack another terminal owns: SIGTERM its owner and wait, at most `timeoutMs`, for it to stop
 * its components. An owner that does not (stuck, stopped, spinning) is killed, and the process groups
 * the state file records are stopped from here.
 */
async function stop(layout: StackLayout, timeoutMs: number): Promise<number> {
  const state = readState(layout.stateFile);
  if (!state) {
    print("no stack is running\n");
    return 0;
  }
  const owner = state.ownerPid;
  if (isAlive(owner)) {
    signal(owner, "SIGTERM");
    await whileAlive(owner, timeoutMs);
    if (isAlive(owner)) {
      const why = isStopped(owner) ? "is stopped (SIGSTOP)" : "did not stop";
      print(
        `the stack's owner (pid ${owner}) ${why} within ${timeoutMs / 1000} s: killing it and stopping its processes from here\n`,
      );
      signal(owner, "SIGKILL");
      await whileAlive(owner, 5_000); // SIGKILL is not ignored; the bound is for a process stuck in the kernel
    }
  }
  const leftOver = await stopStale(layout); // whatever the owner did not get to
  if (leftOver.length) print(`stopped what the owner left running: ${leftOver.join(", ")}\n`);
  print("stack stopped\n");
  return 0;
}

/** Stop or start one process through the owner's control socket. */
async function one(layout: StackLayout, action: "start" | "stop", component: string): Promise<number> {
  const state = readState(layout.stateFile);
  if (!state?.controlSocket || !isAlive(state.ownerPid)) {
    printError(`no running stack in ${layout.root} to ${action} ${component} in\n`);
    return 3;
  }
  const control = new StackControl(state.controlSocket);
  const known = (await control.list()).map((p) => p.name);
  if (!known.includes(component)) {
    printError(`unknown component ${component}; components: ${known.join(", ")}\n`);
    return 2;
  }
  const after = await control[action](component);
  print(`${component}: ${after.running ? `running, pid ${after.pid}` : "stopped"}\n`);
  return 0;
}

function logs(layout: StackLayout, component: string | undefined, follow: boolean): Promise<number> {
  const dir = path.join(layout.root, "logs");
  const available = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => f.replace(/\.log$/, "")) : [];
  if (!component || !available.includes(component)) {
    printError(`usage: npm run stack -- logs COMPONENT [-f]; components: ${available.join(", ") || "(none yet)"}\n`);
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
      "port-offset": { type: "string", default: "0" },
      timeout: { type: "string", default: "60" },
      follow: { type: "boolean", short: "f" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command = "up", arg] = positionals;
  if (values.help) {
    print(`${HELP}\n`);
    return;
  }
  const portOffset = Number(values["port-offset"]);
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(portOffset) || portOffset < 0)
    throw new Error(`--port-offset ${values["port-offset"]}: a whole number ≥ 0`);
  if (!(timeoutSeconds > 0)) throw new Error(`--timeout ${values.timeout}: a number of seconds > 0`);
  const layout = new StackLayout(path.resolve(values["state-dir"] ?? path.join(repoRoot, ".floodgate", "local")));
  switch (command) {
    case "up":
      return up(values.topology ?? process.env.FLOODGATE_TOPOLOGY, portOffset, layout);
    case "status":
      process.exitCode = status(layout);
      return;
    case "stop":
      process.exitCode = arg ? await one(layout, "stop", arg) : await stop(layout, timeoutSeconds * 1000);
      return;
    case "start":
      if (!arg) {
        printError(`usage: npm run stack -- start COMPONENT\n`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await one(layout, "start", arg);
      return;
    case "logs":
      process.exitCode = await logs(layout, arg, values.follow ?? false);
      return;
    default:
      printError(`unknown command ${command}\n\n${HELP}\n`);
      process.exitCode = 2;
  }
}

main().catch((err: Error) => {
  printError(`${err.message}\n`);
  process.exit(1);
});
