import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { childEnv } from "./config";

/**
 * Run a program; resolve with its stdout, reject with its stderr and exit code. `stdoutFile` streams
 * stdout to a file instead (dumps are large); `stdinFile` streams a file in.
 */
export function exec(
  command: string,
  args: string[],
  opts: { env?: Record<string, string>; stdoutFile?: string; input?: NodeJS.ReadableStream; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: childEnv(opts.env),
      stdio: [opts.input ? "pipe" : "ignore", "pipe", "pipe"],
      timeout: opts.timeoutMs ?? 600_000,
    });
    let out = "";
    let err = "";
    // With a file, wait until every byte is flushed, not only until the program exits.
    const flushed = opts.stdoutFile
      ? new Promise<void>((done, fail) =>
          child.stdout!.pipe(createWriteStream(opts.stdoutFile!)).on("finish", done).on("error", fail),
        )
      : Promise.resolve();
    if (!opts.stdoutFile) child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    if (opts.input && child.stdin) opts.input.pipe(child.stdin);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) flushed.then(() => resolve(out), reject);
      else reject(new Error(`${command} exited ${code ?? signal}: ${err.trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}
