/**
 * mysql-replica: check every MariaDB replica's replication (IO and SQL threads, lag) and restart
 * threads that have stopped. Refuses to restart a thread stopped by an error it cannot judge
 * (Last_SQL_Error set): that needs a human, usually a rebuild from a backup.
 */
import { retry } from "zx";
import { COMMON_HELP, parseRunbookArgs, Runbook } from "./lib/runbook";
import { openStack } from "./lib/stack";

const HELP = `usage: npm run runbook -- mysql-replica [options]

Checks Slave_IO_Running, Slave_SQL_Running and Seconds_Behind_Master on every replica of the
stack; with --apply, START SLAVE on a replica whose threads stopped without an error.

${COMMON_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const { options, help } = parseRunbookArgs(argv, {});
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const stack = openStack(options);
  const book = new Runbook("mysql-replica", options);
  let healthy = true;
  for (const name of stack.mysql.names.filter((n) => n.startsWith("mysql-replica-"))) {
    book.step(`${name}: SHOW SLAVE STATUS`);
    let status = await stack.mysql.replicaStatus(name);
    const running = (s: Record<string, string>) => s.Slave_IO_Running === "Yes" && s.Slave_SQL_Running === "Yes";
    if (!running(status)) {
      const error = status.Last_SQL_Error || status.Last_IO_Error;
      book.check(
        `${name} replication threads`,
        false,
        `IO ${status.Slave_IO_Running ?? "?"}, SQL ${status.Slave_SQL_Running ?? "?"}${error ? `, error: ${error}` : ""}`,
      );
      if (status.Last_SQL_Error) {
        healthy = false;
        continue; // skipping events or forcing it would hide divergence: rebuild instead (see the page)
      }
      const started = await book.act(`START SLAVE on ${name}`, async () => {
        await stack.mysql.sql(name, "START SLAVE");
      });
      // The IO thread says "Connecting" until the primary answers: look again for a few seconds.
      status = started
        ? await retry(10, "500ms", async () => {
            const s = await stack.mysql.replicaStatus(name);
            if (!running(s)) throw new Error("not running yet");
            return s;
          }).catch(() => stack.mysql.replicaStatus(name))
        : await stack.mysql.replicaStatus(name);
    }
    const ok = running(status);
    healthy &&= ok;
    book.check(`${name} replication threads`, ok, `IO ${status.Slave_IO_Running}, SQL ${status.Slave_SQL_Running}`);
    const lag = status.Seconds_Behind_Master;
    book.check(`${name} lag`, lag !== "NULL" && Number(lag) <= 30, `${lag} s behind the primary`);
  }
  return book.finish(healthy);
}
