/**
 * The stack a runbook acts on, whatever runs it: the local stack (its state folder and control
 * socket), or a Docker or Kubernetes stack seen from inside its private network (the runbook stack
 * file the Pulumi program wrote, the Docker Engine API, the Kubernetes API). Runbooks reach the
 * stores the same way on every target — by address, as the app does — and differ only in who
 * starts and stops processes.
 */
import { $, type ProcessOutput } from "zx";
import path from "node:path";
import { openTarget, parseVerticalRow, TargetError, type MysqlServerAccess, type Target } from "../../infra/targets";
import { command } from "./shell";
import { UsageError, type RunbookOptions } from "./runbook";

export type { MysqlServerAccess };

/** Root-level SQL on the stack's MariaDB servers (primary first), by server name. */
export class MysqlAdmin {
  constructor(readonly servers: MysqlServerAccess[]) {}

  get names(): string[] {
    return this.servers.map((s) => s.name);
  }

  server(name: string): MysqlServerAccess {
    const s = this.servers.find((x) => x.name === name);
    if (!s) throw new Error(`no MariaDB server ${name} (the stack has ${this.names.join(", ")})`);
    return s;
  }

  /** Run SQL (on stdin, through zx) within `timeoutMs` (default 30 s); tab-separated rows without column names. */
  sql(name: string, sql: string, timeoutMs?: number): Promise<string> {
    const s = this.server(name);
    return command("mariadb", ["--no-defaults", ...s.args, "--batch", "--skip-column-names"], {
      input: sql,
      env: s.env,
      timeoutMs,
    });
  }

  /** `SHOW SLAVE STATUS` as a field → value map (empty when the server is not a replica). */
  async replicaStatus(name: string): Promise<Record<string, string>> {
    const s = this.server(name);
    const out = await command("mariadb", ["--no-defaults", ...s.args, "--vertical"], {
      input: "SHOW SLAVE STATUS",
      env: s.env,
    });
    return parseVerticalRow(out);
  }
}

/**
 * The stack a runbook acts on: its Target (infra/targets/target.ts), with SQL on its MariaDB servers
 * ready to use.
 */
export type RunbookStack = Omit<Target, "mysql"> & { mysql: MysqlAdmin };

/** A Target as runbooks use it. */
export function forRunbooks(target: Target): RunbookStack {
  return { ...target, mysql: new MysqlAdmin(target.mysql) };
}

/** The stack `options` point at, or a UsageError saying why there is none. */
export function openStack(options: RunbookOptions): RunbookStack {
  try {
    return forRunbooks(openTarget(options));
  } catch (err) {
    if (err instanceof TargetError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * How to run one of the services' entry points (services/src/main/NAME) from a runbook: through tsx
 * in a checkout, or the compiled file in the app image (where the runbooks are compiled too).
 */
export function serviceEntry(name: string): { args: string[]; cwd: string } {
  const compiled = path.extname(__filename) === ".js";
  const root = path.resolve(__dirname, "..", "..");
  return compiled
    ? { args: [path.join(root, "services", "src", "main", `${name}.js`)], cwd: root }
    : { args: ["--import", "tsx", path.join("services", "src", "main", `${name}.ts`)], cwd: root };
}

/**
 * Runs one of the services' entry points once (serviceEntry) with `env` added, through zx: its
 * output, or a rejection with its exit code and stderr (zx's ProcessOutput).
 */
export function runServiceOnce(name: string, args: string[], env: Record<string, string>): Promise<ProcessOutput> {
  const entry = serviceEntry(name);
  return $({ cwd: entry.cwd, env: { ...process.env, ...env }, quiet: true, timeout: "600s" })`${process.execPath} ${[
    ...entry.args,
    ...args,
  ]}`;
}
