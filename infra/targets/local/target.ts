/**
 * The local stack as a Target: its state folder says where everything is, its owner's control
 * socket stops and starts processes, root reaches MariaDB over each server's socket (no password
 * anywhere), and a one-shot job runs on this host with the servers' data folders.
 */
import path from "node:path";
import { $ } from "zx";
import { localAddresses } from "../../topology";
import type { DataJob, JobResult, ProcessSignal, Target } from "../target";
import { TargetError } from "../target";
import { localBackupEnv } from "./components/backups";
import { mysqlSockets } from "./components/mysql";
import { StackLayout, type StackContext } from "./context";
import { StackControl } from "./control";
import { readState } from "./state";

/**
 * Signal the process group the supervisor runs `name` in (every process leads its own): the
 * process and what it started — RabbitMQ's wrapper script and its Erlang VM, nginx's workers — as
 * a container's signal reaches its whole tree. This user owns them, so no need to ask the owner.
 */
function signalGroup(name: string, signal: ProcessSignal, processes: Array<{ name: string; pid: number | null }>) {
  const p = processes.find((x) => x.name === name);
  if (!p)
    throw new TargetError(`no process ${name} in the local stack (it has ${processes.map((x) => x.name).join(", ")})`);
  if (p.pid === null) throw new Error(`${name} is not running: nothing to send ${signal} to`);
  process.kill(-p.pid, signal);
}

/** The stack recorded in `stateDir`, or a TargetError saying none runs there. */
export function localTarget(stateDir: string): Target {
  const layout = new StackLayout(stateDir);
  const state = readState(layout.stateFile);
  if (!state) throw new TargetError(`no stack runs in ${stateDir} (start one with npm start, or pass --state-dir)`);
  if (!state.topology || !state.controlSocket)
    throw new TargetError(`the stack in ${stateDir} predates these runbooks: restart it`);
  const topology = state.topology;
  const addresses = localAddresses(topology);
  const control = new StackControl(state.controlSocket);
  const sockets = mysqlSockets({ addresses, layout });
  const at = [addresses.mysqlPrimary, ...addresses.mysqlReplicas];
  /** A MariaDB server's data folder (its datadir). */
  const dataDir = (name: string) => path.join(layout.dir(name), "data");
  return {
    kind: "local",
    description: `the local stack in ${layout.root}`,
    topology,
    addresses,
    mysql: Object.entries(sockets).map(([name, socket], i) => ({
      name,
      address: at[i] ?? addresses.mysqlPrimary,
      args: ["--protocol=socket", `--socket=${socket}`, "-uroot"],
      env: {},
    })),
    control: {
      list: async () =>
        (await control.list()).map((p) => ({
          name: p.name,
          running: p.running,
          detail: p.pid === null ? "not running" : `pid ${p.pid}`,
          ...(p.pid === null ? {} : { instance: String(p.pid), hostPid: p.pid }),
        })),
      start: async (name) => {
        const p = await control.start(name);
        if (!p.running) throw new Error(`the stack reports ${name} not running`);
      },
      stop: async (name) => void (await control.stop(name)),
      signal: async (name, signal) => signalGroup(name, signal, await control.list()),
    },
    backupEnv: localBackupEnv({ topology, addresses, layout, bindHost: "127.0.0.1" } as StackContext),
    scratchDir: layout.root,
    selfArgs: ["--state-dir", layout.root],
    staticDir: layout.staticRoot,
    dataOf: dataDir,
    /** On this host, as this user (the servers' owner): the data folders as they are. */
    runDataJob: async (job: DataJob): Promise<JobResult> => {
      const dirs = Object.fromEntries(Object.entries(job.data).map(([key, server]) => [key, dataDir(server)]));
      if (job.scratch) dirs[job.scratch.key] = layout.dir(job.scratch.name);
      const [cmd, ...args] = job.command(dirs);
      if (!cmd) throw new Error(`${job.name}: no command`);
      const env = { ...process.env, ...dirs };
      const r = await $({ env, quiet: true, nothrow: true, timeout: "600s" })`${cmd} ${args}`;
      return { ok: r.exitCode === 0, output: r.stdout + r.stderr };
    },
  };
}
