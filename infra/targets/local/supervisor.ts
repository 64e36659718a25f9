import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** How to run one process of the stack. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  logFile: string;
  /** Address shown in the status table. */
  address?: string;
  /** Restart with backoff when it exits on its own (stateless processes only). */
  restart?: boolean;
  /** Least delay before a restart (ms); the backoff grows from here. */
  restartDelayMs?: number;
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
  /**
   * Run at this niceness (nice(1), 1–19): background work that may lag under a burst (queue workers,
   * the tracker) yields the CPU to the processes a client waits on — on one host, what lower CPU
   * requests are in Kubernetes and lower cpuShares in Docker.
   */
  nice?: number;
}

/** A running (or exited) process the supervisor owns. */
export interface Managed {
  spec: ProcessSpec;
  child: ChildProcess;
  pid: number;
  exited: boolean;
  exitCode: number | null;
  restarts: number;
  /** The start-up phase it belongs to: processes of one phase stop together. */
  phase: number;
}

const SAFE_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME"];

/**
 * Runs every stack process in its own process group, logs to a file per component,
 * restarts stateless ones, and stops all of them in reverse start order.
 */
export class Supervisor {
  readonly processes = new Map<string, Managed>();
  /** Every process ever started, by name, with its phase: a stopped one can be started again. */
  private readonly known = new Map<string, { spec: ProcessSpec; phase: number }>();
  private stopping = false;
  /** Bumped by the stack between start-up phases (stores, then the API, then the edge...). */
  phase = 0;

  constructor(
    private readonly onEvent: (message: string) => void = () => undefined,
    /** Called after every start and every single stop, so the state file always lists every live pid. */
    private readonly onStart: () => void = () => undefined,
  ) {}

  /** Start a process; throws if its command cannot be spawned or the stack is stopping. */
  start(spec: ProcessSpec): Managed {
    // A start-up step still running when the stack is told to stop must not add a process stopAll misses.
    if (this.stopping) throw new Error(`the stack is stopping: ${spec.name} not started`);
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    const log = fs.openSync(spec.logFile, "a");
    // Only a minimal environment is inherited: secrets reach a process through its own env or files.
    const inherited = Object.fromEntries(SAFE_ENV.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
    // nice execs the command, so the pid (and process group) is the command's own.
    const [command, args] = spec.nice
      ? ["nice", ["-n", String(spec.nice), spec.command, ...spec.args]]
      : [spec.command, spec.args];
    const child = spawn(command, args, {
      cwd: spec.cwd,
      env: { ...inherited, ...spec.env },
      stdio: ["ignore", log, log],
      detached: true, // own process group: Ctrl-C reaches the supervisor, which stops children in order
    });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`could not start ${spec.name}: ${spec.command}`);
    const previous = this.processes.get(spec.name);
    const managed: Managed = {
      spec,
      child,
      pid: child.pid,
      exited: false,
      exitCode: null,
      restarts: previous?.restarts ?? 0,
      phase: previous?.phase ?? this.known.get(spec.name)?.phase ?? this.phase,
    };
    this.processes.set(spec.name, managed);
    this.known.set(spec.name, { spec, phase: managed.phase });
    this.onStart();
    child.on("error", (err) => this.onEvent(`${spec.name}: ${err.message}`));
    child.on("exit", (code, signal) => {
      managed.exited = true;
      managed.exitCode = code;
      if (this.stopping || this.processes.get(spec.name) !== managed) return;
      this.onEvent(`${spec.name} exited (${signal ?? `code ${code}`}); log: ${spec.logFile}`);
      if (spec.restart) {
        const first = spec.restartDelayMs ?? 500;
        const delayMs = Math.min(first * 2 ** managed.restarts, Math.max(10_000, first));
        managed.restarts++;
        setTimeout(() => {
          if (!this.stopping && this.processes.get(spec.name) === managed) this.start(spec);
        }, delayMs).unref();
      }
    });
    return managed;
  }

  /** Start again, with the same spec and phase, a process this supervisor ran before that is not running now. */
  startAgain(name: string): Managed {
    const known = this.known.get(name);
    if (!known) throw new Error(`${name}: no such process in this stack`);
    const current = this.processes.get(name);
    if (current && !current.exited) throw new Error(`${name} is running (pid ${current.pid})`);
    return this.start(known.spec);
  }

  /** Names of every process this supervisor has run, running or not. */
  knownNames(): string[] {
    return [...this.known.keys()];
  }

  /** Stop one process group: stop signal, then SIGKILL after its timeout. */
  async stop(name: string): Promise<void> {
    const managed = this.processes.get(name);
    if (!managed) return;
    this.processes.delete(name);
    this.onStart(); // the state file stops listing it (status, runbooks)
    await stopProcessGroup(managed.pid, managed.spec.stopSignal ?? "SIGTERM", managed.spec.stopTimeoutMs ?? 10_000);
  }

  /** From now on start nothing: no new process, no restart (the first step of stopping the stack). */
  refuseStarts(): void {
    this.stopping = true;
  }

  /** Stop everything, newest phase first (clients before the servers they use); one phase at once. */
  async stopAll(): Promise<void> {
    this.refuseStarts();
    const phases = [...new Set([...this.processes.values()].map((m) => m.phase))].sort((a, b) => b - a);
    for (const phase of phases) {
      const names = [...this.processes.values()].filter((m) => m.phase === phase).map((m) => m.spec.name);
      await Promise.all(names.map((name) => this.stop(name)));
    }
  }
}

/** A process's state letter from /proc (R, S, D, T, Z…), or null where /proc cannot tell. */
function procState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] ?? null;
  } catch {
    return null;
  }
}

/**
 * True while a process with this pid runs. A zombie has exited: where nobody reaps orphans (a
 * container whose PID 1 is not an init), a stopped component stays one, and waiting for it to
 * vanish would wait forever.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return procState(pid) !== "Z";
}

/** Whether the process is stopped (SIGSTOP, or a debugger): it handles no signal until continued. */
export function isStopped(pid: number): boolean {
  const state = procState(pid);
  return state === "T" || state === "t";
}

/** Every process of /proc as pid, parent pid, process group and state (empty where there is no /proc). */
function listProcesses(): Array<{ pid: number; ppid: number; pgid: number; state: string }> {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state === undefined) return []; // not a stat line: nothing to read
      return [{ pid: Number(e), ppid: Number(ppid), pgid: Number(pgid), state }];
    } catch {
      return []; // exited while we looked
    }
  });
}

/** Signal a process group (falling back to the pid), wait for it to go, SIGKILL if it won't. */
export async function stopProcessGroup(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  const send = (sig: NodeJS.Signals) => {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, sig);
      } catch {
        // already gone
      }
    }
  };
  send(signal);
  if (await gone(pid, timeoutMs)) return;
  send("SIGKILL");
  await gone(pid, 5_000); // SIGKILL cannot be ignored; the bound is for a process stuck in the kernel
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(pid) && !groupAlive(pid)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a process group has a member that is not a zombie. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0); // succeeds for a group of zombies too
  } catch {
    return false;
  }
  const all = listProcesses();
  return all.length === 0 || all.some((p) => p.pgid === pgid && p.state !== "Z");
}

/**
 * Stop every descendant of this process still running: commands a start-up step ran (mariadb-install-db,
 * rabbitmqctl…) when the stack was told to stop. SIGTERM, then SIGKILL after `timeoutMs`. Linux only.
 */
export async function stopDescendants(timeoutMs = 2_000): Promise<number[]> {
  const all = listProcesses().filter((p) => p.state !== "Z");
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const p of all) {
      if (p.ppid === parent && !found.includes(p.pid)) {
        found.push(p.pid);
        walk(p.pid);
      }
    }
  };
  walk(process.pid);
  const signal = (sig: NodeJS.Signals) =>
    found.filter(isAlive).forEach((pid) => {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    });
  signal("SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (found.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  signal("SIGKILL");
  return found;
}
