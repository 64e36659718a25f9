/**
 * `npm run runbook -- <name> [options]`: run runbooks/<name>.ts. Each runbook's `--help` says what it
 * checks and does; the shared options are in lib/runbook.ts.
 */
import fs from "node:fs";
import path from "node:path";
import { $, within } from "zx";
import { COMMON_HELP, UsageError } from "./lib/runbook";

// .ts in a checkout (run through tsx), .js in the app image, where the runbooks are compiled.
const EXT = path.extname(__filename);

/** Runbooks are the files beside this one that export `main`. */
export function runbookNames(): string[] {
  return fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith(EXT) && !f.endsWith(`.test${EXT}`) && f !== `main${EXT}`)
    .map((f) => f.slice(0, -EXT.length))
    .sort();
}

const usage = () =>
  `usage: npm run runbook -- <name> [options]\n\nrunbooks: ${runbookNames().join(", ")}\n\n${COMMON_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  if (!runbookNames().includes(name)) {
    process.stderr.write(`unknown runbook: ${name}\n\n${usage()}\n`);
    return 2;
  }
  const mod = (await import(path.join(__dirname, `${name}${EXT}`))) as { main: (argv: string[]) => Promise<number> };
  try {
    // zx's settings for this run only: its spinner draws on a terminal, never into a log or a pipe.
    return await within(() => {
      $.quiet = !process.stderr.isTTY;
      return mod.main(rest);
    });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    },
  );
}
