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
 * Runbooks are zx scripts: options through zx's minimist, the confirmation through its question,
 * the marks coloured with its chalk on a terminal; commands and waits are in lib/shell.ts.
 */
import path from "node:path";
import { chalk, minimist, question } from "zx";
import { RUNBOOK_TARGETS, STACK_FILE_PATH, type RunbookTarget } from "../../infra/targets";

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
  /** DOCKER_HOST is set (on-call's laptop): the Docker target reaches the engine it names. */
  dockerHostSet: boolean;
}

/** One option of a runbook: a flag, or one that takes a value (`--kind mysql`, `--kind=mysql`). */
export type OptionSpec = { type: "boolean"; default?: boolean } | { type: "string"; default?: string };

const COMMON = {
  apply: { type: "boolean", default: false },
  yes: { type: "boolean", default: false },
  target: { type: "string", default: "local" },
  "state-dir": { type: "string" },
  "stack-file": { type: "string" },
  help: { type: "boolean", default: false },
} as const satisfies Record<string, OptionSpec>;

export const COMMON_HELP = `options:
  --apply            act (default: dry run, say what would be done)
  --yes              do not ask before each change
  --target T         where to act: local (default), docker or k8s — the last two from inside
                     the stack's runbooks container (docker exec -it runbooks …,
                     kubectl exec -it deploy/runbooks -- …), or from a laptop with a copy of
                     the stack file (--stack-file), DOCKER_HOST or a kubeconfig
                     ($KUBECONFIG, ~/.kube/config), and the stores' addresses reachable
  --state-dir DIR    the local stack's state folder (default: .floodgate/local)
  --stack-file FILE  the Docker or Kubernetes stack's runbook stack file
                     (default: ${STACK_FILE_PATH}, written there by the Pulumi program)
  -h, --help         this text`;

/**
 * Parse argv with zx's minimist into the common options plus the runbook's own (`extra`) and
 * positionals. minimist accepts anything, so this refuses what it let through: an unknown option,
 * an option that takes a value given none (or twice).
 */
export function parseRunbookArgs(argv: string[], extra: Record<string, OptionSpec>) {
  const spec = Object.entries<OptionSpec>({ ...COMMON, ...extra });
  const namesOf = (type: OptionSpec["type"]) => spec.filter(([, o]) => o.type === type).map(([n]) => n);
  const unknown: string[] = [];
  const parsed = minimist(argv, {
    string: ["_", ...namesOf("string")], // "_": positionals stay strings
    boolean: namesOf("boolean"),
    alias: { h: "help" },
    default: Object.fromEntries(spec.flatMap(([n, o]) => (o.default === undefined ? [] : [[n, o.default]]))),
    unknown: (arg) => {
      if (!arg.startsWith("-") || arg === "-") return true; // a positional
      unknown.push(arg.replace(/=[\s\S]*/, "")); // the option without its =value
      return false;
    },
  });
  const [firstUnknown] = unknown;
  if (firstUnknown !== undefined) throw new UsageError(`Unknown option '${firstUnknown}' (see --help)`);
  const { _: positionals, h: _alias, ...v } = parsed as Record<string, unknown> & { _: string[] };
  for (const n of namesOf("string").filter((x) => v[x] !== undefined)) {
    if (Array.isArray(v[n])) throw new UsageError(`--${n} given ${v[n].length} times: give it once`);
    if (v[n] === "") throw new UsageError(`Option '--${n} <value>' argument missing`);
  }
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
    dockerHostSet: Boolean(process.env.DOCKER_HOST),
  };
  return { options, values: v, positionals, help: Boolean(v.help) };
}

type Outcome = "ok" | "problem" | "done" | "would" | "skipped" | "failed";
const MARK: Record<Outcome, { text: string; colour: (s: string) => string }> = {
  ok: { text: "ok", colour: chalk.green },
  problem: { text: "PROBLEM", colour: chalk.red.bold },
  done: { text: "done", colour: chalk.green.bold },
  would: { text: "would", colour: chalk.cyan },
  skipped: { text: "skipped", colour: chalk.yellow },
  failed: { text: "FAILED", colour: chalk.red.bold },
};

/** Where a runbook's lines go and how it asks; the default is the terminal (or whatever stdout is). */
export interface RunbookIo {
  out: (line: string) => void;
  ask: (question: string) => Promise<boolean>;
  /** Colour the marks (chalk): by default only when stdout is a terminal chalk may colour. */
  colour: boolean;
}

const terminalIo = (): RunbookIo => ({
  out: (l) => process.stdout.write(`${l}\n`),
  ask: askOnTerminal,
  colour: process.stdout.isTTY === true && chalk.level > 0,
});

/** One run of a runbook: checks, actions (dry run unless --apply), and the closing summary. */
export class Runbook {
  private readonly lines: Array<{ outcome: Outcome; what: string }> = [];
  private readonly io: RunbookIo;

  constructor(
    readonly name: string,
    readonly options: RunbookOptions,
    io: Partial<RunbookIo> = {},
  ) {
    this.io = { ...terminalIo(), ...io };
  }

  /** Progress: what is being looked at now. */
  step(message: string): void {
    this.io.out(`${this.paint(chalk.bold, "→")} ${message}`);
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
    if (!this.options.yes && !(await this.io.ask(`${what}?`))) {
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
    this.io.out(`\n${this.paint(chalk.bold, `${this.name} summary${this.options.apply ? "" : " (dry run)"}:`)}`);
    for (const l of this.lines) this.io.out(`  ${this.mark(l.outcome, 8)} ${l.what}`);
    const failed = this.lines.some((l) => l.outcome === "failed");
    const code = stillHealthy && !failed ? 0 : 1;
    this.io.out(code === 0 ? this.paint(chalk.green.bold, "healthy") : this.paint(chalk.red.bold, "NOT healthy"));
    return code;
  }

  private record(outcome: Outcome, what: string): void {
    this.lines.push({ outcome, what });
    this.io.out(`  ${this.mark(outcome)}: ${what}`);
  }

  /** An outcome's mark, padded to `width` before it is coloured (escape codes have no width). */
  private mark(outcome: Outcome, width = 0): string {
    const { text, colour } = MARK[outcome];
    return this.paint(colour, text) + " ".repeat(Math.max(0, width - text.length));
  }

  private paint(colour: (s: string) => string, text: string): string {
    return this.io.colour ? colour(text) : text;
  }
}

/** zx's question on the terminal; refuses rather than hang when there is none. */
async function askOnTerminal(q: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new Error("not a terminal: pass --yes to act without confirmation");
  return /^y(es)?$/i.test((await question(`${q} [y/N] `, { choices: ["yes", "no"] })).trim());
}
