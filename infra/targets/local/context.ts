import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Addresses, Topology } from "../../topology";
import type { Supervisor } from "./supervisor";
import { unixSocketPath } from "../clients";

/** Where the stack keeps its state: one folder per component, logs together. */
export class StackLayout {
  constructor(readonly root: string) {}
  /** A component's own folder, created on demand. */
  dir(component: string): string {
    const dir = path.join(this.root, component);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
  /** A component's log file. */
  log(component: string): string {
    return path.join(this.root, "logs", `${component}.log`);
  }
  /** The state file `status` and `stop` read. */
  get stateFile(): string {
    return path.join(this.root, "stack.json");
  }
  /** Root of the static bucket nginx serves under /static/. */
  get staticRoot(): string {
    return this.dir("static");
  }
}

export { unixSocketPath };

/** Everything a component needs to start. */
export interface StackContext {
  topology: Topology;
  addresses: Addresses;
  layout: StackLayout;
  supervisor: Supervisor;
  /** Repository root: services run from here. */
  repoRoot: string;
  /** Bind address of every listener. */
  bindHost: string;
  progress: (message: string) => void;
}

/** Write a rendered config file readable only by this user (configs hold secrets). */
export function writeConfig(file: string, contents: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, contents, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

/** Run a command to completion and return stdout; secrets go through `env` or `input`, never arguments. */
export function run(
  command: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} ${args.slice(0, 3).join(" ")}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
    // A command may exit without reading its input; that is its answer, not our crash.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input ?? "");
  });
}

/** The error message for a managed process that has died, for waitFor's `gone`. */
export function exitedMessage(ctx: StackContext, name: string): () => string | null {
  return () => {
    const managed = ctx.supervisor.processes.get(name);
    if (managed?.exited && !managed.spec.restart) {
      return `process exited with code ${managed.exitCode}; see ${managed.spec.logFile}`;
    }
    return null;
  };
}
