/**
 * queue-drain: inspect RabbitMQ's queues on the stack — backlog, unacknowledged messages and
 * consumers of every work queue, what waits in every dead-letter queue (`*.dlq`) — and act:
 * `--start-workers` starts the stopped workers of a queue that has a backlog or no consumer,
 * `--replay-dlq` moves dead letters back to their work queue (only where the consumer is idempotent),
 * `--purge-dlq` deletes them. Blast radius: starts stack processes (never more than the topology has),
 * republishes or deletes dead letters.
 */
import { retry } from "zx";
import { liveQueues, managementApi, type LiveQueue } from "./lib/broker";
import { replayDlq } from "./lib/dlq-replay";
import { startWorkers, verifyConsumed } from "./lib/queue-workers";
import { COMMON_HELP, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";
import { openStack } from "./lib/stack";

const HELP = `usage: npm run runbook -- queue-drain [--start-workers] [--replay-dlq | --purge-dlq] [--max-backlog N]
                                   [--wait-seconds N] [options]

Lists every RabbitMQ queue of the stack: a work queue is healthy when it has a consumer and at
most --max-backlog (default 1000) messages ready; a dead-letter queue (*.dlq) when it is empty.

  --start-workers    with --apply: for each work queue with a backlog or no consumer, start the
                     topology's workers of that queue that are not running (orders: worker-orders-N,
                     tracking: the tracker) through the local stack's control socket, the Docker
                     Engine or the Kubernetes API, then wait until the queue has consumers again and
                     its backlog is at most --max-backlog. Running workers are left alone. It starts
                     only the workers the topology has: there are no spare worker slots, so running
                     more means raising workers.<kind>.processes in the topology and redeploying.
  --replay-dlq       with --apply: move the messages of each non-empty dead-letter queue back to its
                     work queue (orders.dlq → orders). Each message is taken unacknowledged, published
                     to the work queue with a publisher confirm, and acknowledged in the DLQ only after
                     the broker confirmed it, so none is lost (a failure leaves it in the DLQ, at worst
                     also in the work queue). Safe for orders: the orders worker is idempotent (one
                     transaction guarded by the unique request_id; a redelivered purchase makes no
                     second order). Messages that are not valid orders messages stay in orders.dlq.
                     Refused for tracking: the tracker remembers counted event ids only in memory for
                     10 minutes, so a replayed event could be counted twice.
  --purge-dlq        with --apply: delete the messages of every non-empty dead-letter queue
                     (not together with --replay-dlq)
  --max-backlog N    ready messages a work queue may hold and be healthy (default 1000)
  --wait-seconds N   how long --start-workers waits for consumers and the backlog (default 120)

${COMMON_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const { options, values, help } = parseRunbookArgs(argv, {
    "start-workers": { type: "boolean", default: false },
    "replay-dlq": { type: "boolean", default: false },
    "purge-dlq": { type: "boolean", default: false },
    "max-backlog": { type: "string", default: "1000" },
    "wait-seconds": { type: "string", default: "120" },
  });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const maxBacklog = wholeNumber("--max-backlog", values["max-backlog"]);
  const waitMs = wholeNumber("--wait-seconds", values["wait-seconds"]) * 1000;
  if (values["purge-dlq"] && values["replay-dlq"])
    throw new UsageError(
      "--purge-dlq and --replay-dlq together: choose one (replay keeps the messages, purge deletes them)",
    );

  const stack = openStack(options);
  const book = new Runbook("queue-drain", options);
  const { vhost } = stack.topology.rabbitmq;

  // Check
  book.step(`RabbitMQ queues in vhost ${vhost}`);
  let queues: LiveQueue[];
  try {
    queues = await liveQueues(stack);
  } catch (err) {
    book.check("rabbitmq", false, (err as Error).message);
    return book.finish(false);
  }
  let healthy = true;
  const work = queues.filter((q) => !q.name.endsWith(".dlq"));
  const stalled: string[] = [];
  for (const q of work) {
    const detail = `${q.ready} ready, ${q.unacked ?? 0} unacked, ${q.consumers} consumers`;
    if (!book.check(`queue ${q.name}`, q.consumers > 0 && q.ready <= maxBacklog, detail)) stalled.push(q.name);
  }

  // Plan / Apply, then Verify: workers first, so that replayed dead letters find consumers.
  if (stalled.length > 0) {
    const { ok, started } = await startWorkers(book, stack, stalled, Boolean(values["start-workers"]));
    const consumed = await verifyConsumed(book, stack, started, maxBacklog, waitMs);
    healthy = ok && consumed && healthy;
  }

  for (const q of queues.filter((x) => x.name.endsWith(".dlq"))) {
    const empty = q.ready === 0;
    book.check(`dead letters ${q.name}`, empty, `${q.ready} messages`);
    if (empty) continue;
    if (values["replay-dlq"]) healthy = (await replayDlq(book, stack, q.name)) && healthy;
    else if (values["purge-dlq"]) {
      const purged = await book.act(`purge ${q.ready} messages from ${q.name}`, async () => {
        const api = managementApi(stack);
        const url = `${api.queues}/${encodeURIComponent(q.name)}/contents`;
        // Emptying a queue is idempotent: asked again (3 times, 1 s apart) when the API blinks.
        await retry(3, "1s", async () => {
          const res = await fetch(url, { method: "DELETE", headers: api.headers, signal: AbortSignal.timeout(5000) });
          if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
        });
      });
      healthy &&= purged;
    } else healthy = false;
  }
  return book.finish(healthy);
}

function wholeNumber(flag: string, raw: unknown): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} ${String(raw)}: expected a whole number ≥ 0`);
  return n;
}
