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

  /** Start a process; throws if its command cannot be spawned. */
  start(spec: ProcessSpec): Managed {
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

  /** Stop everything, newest phase first (clients before the servers they use); one phase at once. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const phases = [...new Set([...this.processes.values()].map((m) => m.phase))].sort((a, b) => b - a);
    for (const phase of phases) {
      const names = [...this.processes.values()].filter((m) => m.phase === phase).map((m) => m.spec.name);
      await Promise.all(names.map((name) => this.stop(name)));
    }
  }
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
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
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid) && !groupAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  send("SIGKILL");
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
