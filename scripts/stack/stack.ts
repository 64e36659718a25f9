import fs from "node:fs";
import path from "node:path";
import { localAddresses, type Addresses, type Topology } from "../../infra/topology";
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
}

/** A running stack. */
export interface RunningStack extends StackContext {
  stop(): Promise<void>;
}

function findCommand(command: string): boolean {
  if (command.includes("/")) return fs.existsSync(command);
  return (process.env.PATH ?? "").split(":").some((dir) => dir && fs.existsSync(path.join(dir, command)));
}

/** Stop the processes a previous stack in this folder left behind (its owner was killed). */
export async function stopStale(layout: StackLayout): Promise<void> {
  const state = readState(layout.stateFile);
  if (!state) return;
  const ownedByUs = state.ownerPid === process.pid;
  if (!ownedByUs && isAlive(state.ownerPid)) {
    throw new Error(
      `a stack is already running in ${layout.root} (pid ${state.ownerPid}); stop it with: npm run stack -- stop`,
    );
  }
  for (const p of [...state.processes].reverse()) await stopProcessGroup(p.pid, "SIGTERM", 10_000);
  await stopEpmd(state.epmdPort);
  fs.rmSync(layout.stateFile, { force: true });
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
    progress,
  };
  let stopAutoscaler = async () => undefined as void;
  let stopControl = async () => undefined as void;
  const stop = async () => {
    await stopControl(); // first, so no runbook starts a process while the stack stops
    await stopAutoscaler(); // and no replica is started either
    await supervisor.stopAll();
    await stopEpmd(topology.rabbitmq.epmdPort);
    fs.rmSync(layout.stateFile, { force: true });
  };
  try {
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
      supervisor.phase++;
      await phase();
    }
    saveState();
    return { ...ctx, stop };
  } catch (err) {
    progress(`start failed: ${(err as Error).message}; stopping what was started`);
    await stop();
    throw err;
  }
}
