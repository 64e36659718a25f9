/**
 * backup-now: take a MariaDB and/or Redis backup of the stack right now, with the backup service's
 * own code and settings (its store, retention), and optionally run the restore drill.
 */
import { spinner } from "zx";
import { parseBackupEnv } from "../services/src/backup/config";
import { openBackupStore } from "../services/src/backup/open-store";
import { COMMON_HELP, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";
import { openStack, runServiceOnce } from "./lib/stack";

const HELP = `usage: npm run runbook -- backup-now [--kind mysql|redis|all] [--drill] [options]

Takes backups now into the stack's backup store (the local stack's backups folder, the backups
bucket on Docker and Kubernetes); --drill then restores the newest MariaDB backup into a scratch
server and verifies every table.

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
  const stack = openStack(options);
  const env = stack.backupEnv;
  const { location } = openBackupStore(parseBackupEnv(env));
  const book = new Runbook("backup-now", options);
  const backup = (args: string[]) => spinner(`backup ${args.join(" ")}`, () => runServiceOnce("backup", args, env));
  let healthy = true;
  for (const k of kind === "all" ? ["mysql", "redis"] : [kind]) {
    book.step(`${k} backup into ${location}`);
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
