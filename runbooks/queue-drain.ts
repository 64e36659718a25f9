/**
 * queue-drain: inspect RabbitMQ's queues on the local stack — backlog, unacknowledged messages and
 * consumers of every work queue, and what waits in every dead-letter queue (`*.dlq`) — and, with
 * `--purge-dlq --apply`, empty the dead-letter queues through the management API.
 * Starting more workers and replaying dead letters are not implemented yet (see runbooks/README.md).
 */
import { hostPort } from "../infra/topology";
import { COMMON_HELP, localStack, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";

const HELP = `usage: npm run runbook -- queue-drain [--purge-dlq] [--max-backlog N] [options]

Lists every RabbitMQ queue of the local stack: a work queue is healthy when it has a consumer and at
most --max-backlog (default 1000) messages ready; a dead-letter queue (*.dlq) when it is empty.
With --purge-dlq --apply, deletes the messages of every non-empty dead-letter queue.

${COMMON_HELP}`;

interface Queue {
  name: string;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

export async function main(argv: string[]): Promise<number> {
  const { options, values, help } = parseRunbookArgs(argv, {
    "purge-dlq": { type: "boolean", default: false },
    "max-backlog": { type: "string", default: "1000" },
  });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const maxBacklog = Number(values["max-backlog"]);
  if (!Number.isInteger(maxBacklog) || maxBacklog < 0)
    throw new UsageError(`--max-backlog ${String(values["max-backlog"])}: expected a whole number ≥ 0`);

  const stack = localStack(options.stateDir);
  const book = new Runbook("queue-drain", options);
  const { vhost, users } = stack.topology.rabbitmq;
  const api = `http://${hostPort(stack.addresses.rabbitmqManagement)}/api/queues/${encodeURIComponent(vhost)}`;
  const headers = {
    authorization: `Basic ${Buffer.from(`${users.admin.name}:${users.admin.password}`).toString("base64")}`,
  };
  const list = async (): Promise<Queue[]> => {
    const res = await fetch(api, { headers, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${api}: HTTP ${res.status}`);
    return (await res.json()) as Queue[];
  };

  book.step(`RabbitMQ queues in vhost ${vhost}`);
  let queues: Queue[];
  try {
    queues = await list();
  } catch (err) {
    book.check("rabbitmq management API", false, (err as Error).message);
    return book.finish(false);
  }
  let healthy = true;
  for (const q of queues.filter((x) => !x.name.endsWith(".dlq"))) {
    const detail = `${q.messages_ready} ready, ${q.messages_unacknowledged} unacked, ${q.consumers} consumers`;
    healthy = book.check(`queue ${q.name}`, q.consumers > 0 && q.messages_ready <= maxBacklog, detail) && healthy;
  }
  for (const q of queues.filter((x) => x.name.endsWith(".dlq"))) {
    const empty = q.messages_ready === 0;
    book.check(`dead letters ${q.name}`, empty, `${q.messages_ready} messages`);
    if (empty) continue;
    if (!values["purge-dlq"]) {
      healthy = false;
      continue;
    }
    const purged = await book.act(`purge ${q.messages_ready} messages from ${q.name}`, async () => {
      const url = `${api}/${encodeURIComponent(q.name)}/contents`;
      const res = await fetch(url, { method: "DELETE", headers, signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    });
    healthy &&= purged;
  }
  return book.finish(healthy);
}
