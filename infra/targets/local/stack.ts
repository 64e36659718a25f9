import fs from "node:fs";
import path from "node:path";
import { localAddresses, type Addresses, type Topology } from "../../topology";
import { startApi } from "./components/api";
import { startMonitoring } from "./components/monitoring";
import { startMysql } from "./components/mysql";
import { startNginx } from "./components/nginx";
import { startRabbitmq, stopEpmd } from "./components/rabbitmq";
import { startRedis } from "./components/redis";
import { startAutoscaler } from "./components/autoscaler";
import { startBackups } from "./components/backups";
import { startTracker } from "./components/tracker";
import { startWorkers } from "./components/workers";
import { startControlServer } from "./control";
import { StackLayout, unixSocketPath, type StackContext } from "./context";
import { readState, writeState } from "./state";
import { isAlive, stopProcessGroup, Supervisor } from "./supervisor";

/** Programs the stack runs, all from Debian packages except node. */
export const REQUIRED_COMMANDS = [
  "nginx",
  "mariadbd",
  "mariadb-install-db",
  "mariadb",
  "redis-server",
  "redis-cli",
  "/usr/lib/rabbitmq/bin/rabbitmq-server",
  "rabbitmqctl",
  "epmd",
  "prometheus",
  "promtool",
  "prometheus-alertmanager",
  "amtool",
  "prometheus-node-exporter",
  "prometheus-nginx-exporter",
  "prometheus-redis-exporter",
  "prometheus-mysqld-exporter",
];

/** Options for one stack. */
export interface StackOptions {
  root: string;
  repoRoot: string;
  /** Delete all state first (the test stack starts clean every run). */
  fresh?: boolean;
  progress?: (message: string) => void;
  /**
   * Aborting it stops start-up at once (Ctrl-C during `npm start`): what has started so far is
   * stopped, and startStack rejects with the abort reason.
   */
  signal?: AbortSignal;
}

/** A running stack. */
export interface RunningStack extends StackContext {
  stop(): Promise<void>;
}

function findCommand(command: string): boolean {
  if (command.includes("/")) return fs.existsSync(command);
  return (process.env.PATH ?? "").split(":").some((dir) => dir && fs.existsSync(path.join(dir, command)));
}

/**
 * Stop the processes a stack in this folder left behind (its owner was killed, or is stuck): as the
 * owner would, newest phase first, each with its stop signal and timeout. Returns the names it stopped.
 */
export async function stopStale(layout: StackLayout): Promise<string[]> {
  const state = readState(layout.stateFile);
  if (!state) return [];
  const ownedByUs = state.ownerPid === process.pid;
  if (!ownedByUs && isAlive(state.ownerPid)) {
    throw new Error(
      `a stack is already running in ${layout.root} (pid ${state.ownerPid}); stop it with: npm run stack -- stop`,
    );
  }
  const running = state.processes.filter((p) => isAlive(p.pid)).map((p) => p.name);
  // Every recorded group, even one whose leader is gone: its other members may still run.
  const phases = [...new Set(state.processes.map((p) => p.phase ?? 0))].sort((a, b) => b - a);
  for (const phase of phases) {
    await Promise.all(
      state.processes
        .filter((p) => (p.phase ?? 0) === phase)
        .map((p) => stopProcessGroup(p.pid, p.stopSignal ?? "SIGTERM", p.stopTimeoutMs ?? 10_000)),
    );
  }
  await stopEpmd(state.epmdPort);
  if (state.controlSocket) fs.rmSync(state.controlSocket, { force: true }); // nobody answers on it any more
  fs.rmSync(layout.stateFile, { force: true });
  return running;
}

/** Start the whole stack in dependency order; on any failure, stop what was started and rethrow. */
export async function startStack(topology: Topology, opts: StackOptions): Promise<RunningStack> {
  const missing = REQUIRED_COMMANDS.filter((c) => !findCommand(c));
  if (missing.length) throw new Error(`missing programs: ${missing.join(", ")} (npm start installs them)`);
  const layout = new StackLayout(opts.root);
  await stopStale(layout);
  if (opts.fresh) fs.rmSync(opts.root, { recursive: true, force: true });
  fs.mkdirSync(opts.root, { recursive: true, mode: 0o700 });

  const progress = opts.progress ?? (() => undefined);
  const addresses: Addresses = localAddresses(topology);
  const controlSocket = unixSocketPath(opts.root, "control.sock");
  const saveState = (): void =>
    writeState(layout.stateFile, {
      ownerPid: process.pid,
      root: opts.root,
      startedAt: new Date().toISOString(),
      epmdPort: topology.rabbitmq.epmdPort,
      topology,
      controlSocket,
      processes: [...supervisor.processes.values()].map((m) => ({
        name: m.spec.name,
        pid: m.pid,
        address: m.spec.address ?? "",
        logFile: m.spec.logFile,
        phase: m.phase,
        stopSignal: m.spec.stopSignal,
        stopTimeoutMs: m.spec.stopTimeoutMs,
      })),
    });
  // Every start rewrites the state file, so a killed owner still leaves a way to clean up.
  const supervisor = new Supervisor((message) => progress(`! ${message}`), saveState);
  const ctx: StackContext = {
    topology,
    addresses,
    layout,
    supervisor,
    repoRoot: opts.repoRoot,
    bindHost: "127.0.0.1",
    // An abandoned step's late news ("rabbitmq ready" while it is being stopped) would mislead.
    progress: (message) => {
      if (!opts.signal?.aborted) progress(message);
    },
  };
  let stopAutoscaler = async () => undefined as void;
  let stopControl = async () => undefined as void;
  const stop = async () => {
    supervisor.refuseStarts(); // a start-up step still running must not add a process now
    await stopControl(); // no runbook starts a process while the stack stops
    await stopAutoscaler(); // and no replica is started either
    await supervisor.stopAll();
    await stopEpmd(topology.rabbitmq.epmdPort);
    fs.rmSync(layout.stateFile, { force: true });
  };
  try {
    opts.signal?.throwIfAborted();
    stopControl = await startControlServer(controlSocket, supervisor);
    const phases = [
      () => Promise.all([startMysql(ctx), startRedis(ctx), startRabbitmq(ctx)]),
      () => startApi(ctx),
      () => Promise.all([startTracker(ctx), startWorkers(ctx), startBackups(ctx)]),
      () => startNginx(ctx),
      () => startMonitoring(ctx),
      async () => {
        if (ctx.addresses.autoscaler) stopAutoscaler = await startAutoscaler(ctx);
      },
    ];
    for (const phase of phases) {
      opts.signal?.throwIfAborted();
      supervisor.phase++;
      await unlessAborted<unknown>(phase(), opts.signal);
    }
    saveState();
    return { ...ctx, stop };
  } catch (err) {
    if (opts.signal?.aborted) progress("start-up interrupted; stopping what was started");
    else progress(`start failed: ${(err as Error).message}; stopping what was started`);
    await stop();
    throw opts.signal?.aborted ? opts.signal.reason : err;
  }
}

/**
 * Wait for a start-up step, or reject as soon as `signal` aborts. The step is abandoned, not
 * cancelled: its pending waits fail once the stack stops, and the supervisor refuses its late starts.
 */
function unlessAborted<T>(step: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return step;
  step.catch(() => undefined); // an abandoned step's failure is expected, not an unhandled rejection
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    step.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
