/**
 * How the runbooks run other programs (mariadb, redis-cli…) and wait for things: zx's `$` with its
 * quoting, a timeout on every command, secrets only in the environment; zx's `retry` for polling.
 * (Runbooks put zx's `spinner` around their long waits; main.ts keeps it quiet off a terminal.)
 */
import type { Readable } from "node:stream";
import { $, retry, type Options, type ProcessOutput } from "zx";
import type { HostPort, Topology } from "../../infra/topology";

/** zx's own spawn, taken once here: inside `$({ spawn })`, `$.spawn` is the override itself. */
const zxSpawn = $.spawn as (...a: unknown[]) => ReturnType<Options["spawn"]>;

/** A command that exits early leaves its input unread: that is its answer (its exit code), not a crash of ours. */
const spawnTolerant = ((...args: unknown[]) => {
  const child = zxSpawn(...args);
  child.stdin?.on("error", () => undefined);
  return child;
}) as Options["spawn"];

/** How a command runs: what it reads on stdin, what it gets in its environment, how long it may take. */
export interface CommandOptions {
  input?: string | Readable;
  /** Added to this process's environment (passwords go here, never in arguments). */
  env?: Record<string, string>;
  /** Default 30 s; the command is killed (with its children) after it. */
  timeoutMs?: number;
}

/**
 * A zx shell for one command: quiet (the runbook prints its own progress), not throwing — `command`
 * below turns a failure into an Error naming the program and its stderr.
 */
export const shell = (o: CommandOptions = {}) =>
  $({
    input: o.input,
    env: { ...process.env, ...o.env },
    timeout: o.timeoutMs ?? 30_000,
    quiet: true,
    nothrow: true,
    spawn: spawnTolerant,
  });

/** stdout of a finished command, or an Error: "<program> <first args>: <stderr, or how it ended>". */
export function stdoutOf(out: ProcessOutput, program: string, args: string[]): string {
  if (out.exitCode === 0) return out.stdout;
  const ended = out.signal ? `killed by ${out.signal} (timed out?)` : `exit ${out.exitCode}`;
  throw new Error(`${[program, ...args.slice(0, 3)].join(" ")}: ${out.stderr.trim() || ended}`);
}

/** Run `program args…` (zx quotes every argument): its stdout, or an Error with its stderr. */
export async function command(program: string, args: string[], o: CommandOptions = {}): Promise<string> {
  return stdoutOf(await shell(o)`${program} ${args}`, program, args);
}

/** A `redis-cli` command as the cluster's admin ACL user on one node; the password in the environment. */
export const redisCli = (topology: Topology, node: HostPort, args: string[]): Promise<string> =>
  command("redis-cli", ["-h", node.host, "-p", String(node.port), "--user", "admin", "--no-auth-warning", ...args], {
    env: { REDISCLI_AUTH: topology.redis.users.admin.password },
  });

/** The first line of a message or command output (all of it when it has no newline). */
export function firstLine(text: string): string {
  const newline = text.indexOf("\n");
  return newline === -1 ? text : text.slice(0, newline);
}

/** Not there yet: what the last look saw. */
class NotYet extends Error {}

/**
 * Ask `probe` every `intervalMs` (zx's retry) until it says true, for at most `timeoutMs`; throws
 * "<what> not ready after N s: <last error or answer>". A probe that throws counts as not yet.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  o: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let last = "not ready";
  const ready = await retry(Infinity, o.intervalMs ?? 250, async () => {
    try {
      if (await probe()) return true;
    } catch (err) {
      last = firstLine((err as Error).message);
    }
    if (Date.now() >= deadline) return false; // out of time: stop retrying
    throw new NotYet(last);
  });
  if (!ready) throw new Error(`${what} not ready after ${o.timeoutMs / 1000} s: ${last}`);
}
