/**
 * What every runbook shares. A runbook is `runbooks/<name>.ts` exporting `main(argv)`; on-call runs
 * `npm run runbook -- <name> [--apply] [--yes] [--state-dir DIR] [--target local]`:
 * - dry run by default: each mutating action prints "would …" and changes nothing;
 * - `--apply` acts, asking before each mutation unless `--yes` (without a terminal and without
 *   `--yes` it refuses rather than hang);
 * - every action is idempotent: it checks before it acts, so a second run finds nothing to do;
 * - progress goes to stdout as it happens, and a closing summary lists every check and action;
 * - exit code 0 when everything checked is healthy (or was fixed), 1 when something still is not,
 *   2 for bad usage.
 * Targets: the local stack (its state folder) by default; `--target docker|k8s` from inside a Docker or
 * Kubernetes stack's `runbooks` container, which holds the stack file (lib/stack.ts).
 */
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { localAddresses, type Addresses, type Topology } from "../../infra/topology";
import { StackLayout } from "../../scripts/stack/context";
import { StackControl } from "../../scripts/stack/control";
import { readState, type StackState } from "../../scripts/stack/state";
import { RUNBOOK_TARGETS, STACK_FILE_PATH, type RunbookTarget } from "./stack-file";

/** A usage error: printed with the runbook's help, exit code 2. */
export class UsageError extends Error {}

/** The common options. */
export interface RunbookOptions {
  apply: boolean;
  yes: boolean;
  stateDir: string;
  target: RunbookTarget;
  /** The runbook stack file (Docker and Kubernetes targets). */
  stackFile: string;
}

const COMMON = {
  apply: { type: "boolean", default: false },
  yes: { type: "boolean", default: false },
  target: { type: "string", default: "local" },
  "state-dir": { type: "string" },
  "stack-file": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

export const COMMON_HELP = `options:
  --apply            act (default: dry run, say what would be done)
  --yes              do not ask before each change
  --target T         where to act: local (default), docker or k8s — the last two from inside
                     the stack's runbooks container (docker exec -it runbooks …,
                     kubectl exec -it deploy/runbooks -- …)
  --state-dir DIR    the local stack's state folder (default: .floodgate/local)
  --stack-file FILE  the Docker or Kubernetes stack's runbook stack file
                     (default: ${STACK_FILE_PATH}, written there by the Pulumi program)
  -h, --help         this text`;

/** Parse argv into the common options plus the runbook's own (`extra`) and positionals. */
export function parseRunbookArgs<E extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], extra: E) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON, ...extra }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values as Record<string, unknown>;
  const target = String(v.target);
  if (!(RUNBOOK_TARGETS as readonly string[]).includes(target))
    throw new UsageError(`--target ${target}: expected ${RUNBOOK_TARGETS.join(", ")}`);
  const repoRoot = path.resolve(__dirname, "..", "..");
  const options: RunbookOptions = {
    apply: Boolean(v.apply),
    yes: Boolean(v.yes),
    stateDir: path.resolve(String(v["state-dir"] ?? path.join(repoRoot, ".floodgate", "local"))),
    target: target as RunbookTarget,
    stackFile: path.resolve(String(v["stack-file"] ?? STACK_FILE_PATH)),
  };
  return { options, values: v, positionals: parsed.positionals, help: Boolean(v.help) };
}

/** A running local stack as a runbook sees it: its state, topology and addresses. */
export interface LocalStack {
  layout: StackLayout;
  state: StackState;
  topology: Topology;
  addresses: Addresses;
  /** The stack owner's control socket: stop or start one of its processes by name. */
  control: StackControl;
}

/** The stack recorded in `stateDir`, or a UsageError saying none runs there. */
export function localStack(stateDir: string): LocalStack {
  const layout = new StackLayout(stateDir);
  const state = readState(layout.stateFile);
  if (!state) throw new UsageError(`no stack runs in ${stateDir} (start one with npm start, or pass --state-dir)`);
  if (!state.topology || !state.controlSocket)
    throw new UsageError(`the stack in ${stateDir} predates these runbooks: restart it`);
  return {
    layout,
    state,
    topology: state.topology,
    addresses: localAddresses(state.topology),
    control: new StackControl(state.controlSocket),
  };
}

type Outcome = "ok" | "problem" | "done" | "would" | "skipped" | "failed";
const MARK: Record<Outcome, string> = {
  ok: "ok",
  problem: "PROBLEM",
  done: "done",
  would: "would",
  skipped: "skipped",
  failed: "FAILED",
};

/** One run of a runbook: checks, actions (dry run unless --apply), and the closing summary. */
export class Runbook {
  private readonly lines: Array<{ outcome: Outcome; what: string }> = [];

  constructor(
    readonly name: string,
    readonly options: RunbookOptions,
    private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
    private readonly ask: (question: string) => Promise<boolean> = askOnTerminal,
  ) {}

  /** Progress: what is being looked at now. */
  step(message: string): void {
    this.out(`→ ${message}`);
  }

  /** Record a check: healthy or not. */
  check(what: string, healthy: boolean, detail = ""): boolean {
    this.record(healthy ? "ok" : "problem", detail ? `${what}: ${detail}` : what);
    return healthy;
  }

  /** A mutation: run only with --apply, after confirmation unless --yes. Returns whether it ran. */
  async act(what: string, fn: () => Promise<void>): Promise<boolean> {
    if (!this.options.apply) {
      this.record("would", `${what} (run again with --apply)`);
      return false;
    }
    if (!this.options.yes && !(await this.ask(`${what}?`))) {
      this.record("skipped", `${what} (not confirmed)`);
      return false;
    }
    try {
      await fn();
      this.record("done", what);
      return true;
    } catch (err) {
      this.record("failed", `${what}: ${(err as Error).message}`);
      return false;
    }
  }

  /** Print the summary; the exit code: 0 when nothing is left a problem or failed, else 1. */
  finish(stillHealthy: boolean): number {
    this.out(`\n${this.name} summary${this.options.apply ? "" : " (dry run)"}:`);
    for (const l of this.lines) this.out(`  ${MARK[l.outcome].padEnd(8)} ${l.what}`);
    const failed = this.lines.some((l) => l.outcome === "failed");
    const code = stillHealthy && !failed ? 0 : 1;
    this.out(code === 0 ? "healthy" : "NOT healthy");
    return code;
  }

  private record(outcome: Outcome, what: string): void {
    this.lines.push({ outcome, what });
    this.out(`  ${MARK[outcome]}: ${what}`);
  }
}

async function askOnTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new Error("not a terminal: pass --yes to act without confirmation");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
