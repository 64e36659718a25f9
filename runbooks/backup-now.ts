/**
 * backup-now: take a MariaDB and/or Redis backup of the local stack right now, with the backup
 * service's own code and settings (retention applies), and optionally run the restore drill.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { localBackupEnv } from "../scripts/stack/components/backups";
import type { StackContext } from "../scripts/stack/context";
import { COMMON_HELP, localStack, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";

const HELP = `usage: npm run runbook -- backup-now [--kind mysql|redis|all] [--drill] [options]

Takes backups now into the stack's backups folder; --drill then restores the newest MariaDB
backup into a scratch server and verifies every table.

${COMMON_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const { options, values, help } = parseRunbookArgs(argv, {
    kind: { type: "string", default: "all" },
    drill: { type: "boolean", default: false },
  });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const kind = String(values.kind);
  if (!["mysql", "redis", "all"].includes(kind)) throw new UsageError(`--kind ${kind}: expected mysql, redis or all`);
  const stack = localStack(options.stateDir);
  const env = localBackupEnv({ ...stack, bindHost: "127.0.0.1" } as unknown as StackContext);
  const book = new Runbook("backup-now", options);
  const repoRoot = path.resolve(__dirname, "..");
  const backup = (args: string[]) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", "services/src/main/backup.ts", ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      timeout: 600_000,
    });
  let healthy = true;
  for (const k of kind === "all" ? ["mysql", "redis"] : [kind]) {
    book.step(`${k} backup into ${env.BACKUP_DIR}`);
    healthy =
      (await book.act(`take a ${k} backup`, async () => void (await backup(["--once", k])))) || !options.apply
        ? healthy
        : false;
  }
  if (values.drill) {
    book.step("restore drill");
    const ran = await book.act("restore the newest MariaDB backup into a scratch server and verify it", async () => {
      const { stdout } = await backup(["--drill"]);
      const result = JSON.parse(stdout) as { rtoSeconds: number; rpoSeconds: number };
      book.check("restore drill", true, `RTO ${result.rtoSeconds.toFixed(1)} s, RPO ${result.rpoSeconds.toFixed(0)} s`);
    });
    if (options.apply && !ran) healthy = false;
  }
  return book.finish(healthy);
}
