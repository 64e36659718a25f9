/**
 * queue-drain: inspect RabbitMQ's queues on the local stack — backlog, unacknowledged messages and
 * consumers of every work queue, what waits in every dead-letter queue (`*.dlq`) — and act:
 * `--start-workers` starts the stopped workers of a queue that has a backlog or no consumer,
 * `--replay-dlq` moves dead letters back to their work queue (only where the consumer is idempotent),
 * `--purge-dlq` deletes them. Blast radius: starts stack processes (never more than the topology has),
 * republishes or deletes dead letters.
 */
import amqp from "amqplib";
import { hostPort } from "../infra/topology";
import { amqpUrl } from "../scripts/stack/components/rabbitmq";
import { waitFor } from "../scripts/stack/wait";
import { OrderMessageSchema } from "../services/src/modules/flash-sales/schema";
import { COMMON_HELP, localStack, parseRunbookArgs, Runbook, UsageError, type LocalStack } from "./lib/runbook";

const HELP = `usage: npm run runbook -- queue-drain [--start-workers] [--replay-dlq | --purge-dlq] [--max-backlog N]
                                   [--wait-seconds N] [options]

Lists every RabbitMQ queue of the local stack: a work queue is healthy when it has a consumer and at
most --max-backlog (default 1000) messages ready; a dead-letter queue (*.dlq) when it is empty.

  --start-workers    with --apply: for each work queue with a backlog or no consumer, start the
                     topology's workers of that queue that are not running (orders: worker-orders-N,
                     tracking: the tracker) through the stack's control socket, then wait until the
                     queue has consumers again and its backlog is at most --max-backlog. Running
                     workers are left alone. It starts only the workers the topology has: there are no
                     spare worker slots, so running more means raising workers.<kind>.processes in the
                     topology and restarting the stack.
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

interface Queue {
  name: string;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

/** The stack processes that consume each RabbitMQ work queue. */
const CONSUMERS: Record<string, RegExp> = { orders: /^worker-orders-\d+$/, tracking: /^tracker$/ };

type ReplayRule = { safe: true; valid: (body: Buffer) => boolean } | { safe: false; why: string };

/** Which dead-letter queues may go back to their work queue; a queue not listed is refused. */
const REPLAY: Record<string, ReplayRule> = {
  // handleOrder: one transaction guarded by unique keys (request_id; sale, user, seq) — a duplicate is a no-op.
  orders: { safe: true, valid: (body) => parsesAs(body, OrderMessageSchema) },
  tracking: {
    safe: false,
    why: "the tracker remembers counted event ids only in memory for 10 minutes: a replayed event could be counted twice",
  },
};

function parsesAs(body: Buffer, schema: { safeParse: (v: unknown) => { success: boolean } }): boolean {
  try {
    return schema.safeParse(JSON.parse(body.toString("utf8"))).success;
  } catch {
    return false;
  }
}

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

  const stack = localStack(options.stateDir);
  const book = new Runbook("queue-drain", options);
  const { vhost, users } = stack.topology.rabbitmq;
  const api = `http://${hostPort(stack.addresses.rabbitmqManagement)}/api/queues/${encodeURIComponent(vhost)}`;
  const headers = {
    authorization: `Basic ${Buffer.from(`${users.admin.name}:${users.admin.password}`).toString("base64")}`,
  };

  // Check
  book.step(`RabbitMQ queues in vhost ${vhost}`);
  let queues: Queue[];
  try {
    const res = await fetch(api, { headers, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${api}: HTTP ${res.status}`);
    queues = (await res.json()) as Queue[];
  } catch (err) {
    book.check("rabbitmq management API", false, (err as Error).message);
    return book.finish(false);
  }
  let healthy = true;
  const work = queues.filter((q) => !q.name.endsWith(".dlq"));
  const stalled: Queue[] = [];
  for (const q of work) {
    const detail = `${q.messages_ready} ready, ${q.messages_unacknowledged} unacked, ${q.consumers} consumers`;
    if (!book.check(`queue ${q.name}`, q.consumers > 0 && q.messages_ready <= maxBacklog, detail)) stalled.push(q);
  }

  // Plan / Apply, then Verify: workers first, so that replayed dead letters find consumers.
  if (stalled.length > 0) {
    const { ok, started } = await startWorkers(book, stack, stalled, Boolean(values["start-workers"]));
    const consumed = await verifyConsumed(book, stack, started, maxBacklog, waitMs);
    healthy = ok && consumed && healthy;
  }

  for (const q of queues.filter((x) => x.name.endsWith(".dlq"))) {
    const empty = q.messages_ready === 0;
    book.check(`dead letters ${q.name}`, empty, `${q.messages_ready} messages`);
    if (empty) continue;
    if (values["replay-dlq"]) healthy = (await replayDlq(book, stack, q)) && healthy;
    else if (values["purge-dlq"]) {
      const purged = await book.act(`purge ${q.messages_ready} messages from ${q.name}`, async () => {
        const url = `${api}/${encodeURIComponent(q.name)}/contents`;
        const res = await fetch(url, { method: "DELETE", headers, signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
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

/**
 * Report the stopped workers of each stalled queue and, with --start-workers, start them. `ok` is
 * false when every stalled queue stays stalled for sure (nothing to start, or a start failed).
 */
async function startWorkers(book: Runbook, stack: LocalStack, stalled: Queue[], start: boolean) {
  book.step("workers of the queues with a backlog or no consumer");
  const started: Queue[] = [];
  let processes;
  try {
    processes = await stack.control.list();
  } catch (err) {
    return { ok: book.check("stack control socket", false, (err as Error).message), started };
  }
  let ok = true;
  for (const q of stalled) {
    const pattern = CONSUMERS[q.name];
    const mine = pattern ? processes.filter((p) => pattern.test(p.name)) : [];
    const stopped = mine.filter((p) => !p.running).map((p) => p.name);
    const detail = `${mine.length - stopped.length} of ${mine.length} running`;
    if (mine.length === 0) ok = book.check(`workers of ${q.name}`, false, "this stack runs no process for it");
    else if (stopped.length === 0)
      ok = book.check(`workers of ${q.name}`, false, `${detail}: more means raising their processes in the topology`);
    else {
      book.check(`workers of ${q.name}`, false, `${detail}, stopped: ${stopped.join(", ")}`);
      if (!start) ok = false;
      else {
        let all = true;
        for (const name of stopped) all = (await book.act(`start ${name}`, () => startProcess(stack, name))) && all;
        if (all) started.push(q);
        ok &&= all;
      }
    }
  }
  return { ok, started };
}

async function startProcess(stack: LocalStack, name: string): Promise<void> {
  const p = await stack.control.start(name);
  if (!p.running) throw new Error(`the stack reports ${name} not running`);
}

/** After starting workers: wait until each queue has consumers and at most maxBacklog ready, and report it. */
async function verifyConsumed(book: Runbook, stack: LocalStack, started: Queue[], maxBacklog: number, waitMs: number) {
  if (started.length === 0) return true;
  let connection: amqp.ChannelModel;
  try {
    connection = await amqp.connect(amqpUrl(stack, "admin"), { timeout: 5000 });
  } catch (err) {
    return book.check("rabbitmq AMQP", false, (err as Error).message);
  }
  try {
    const channel = await connection.createChannel();
    let ok = true;
    for (const q of started) {
      book.step(`waiting up to ${waitMs / 1000} s for consumers on ${q.name} and its backlog`);
      // checkQueue asks the broker itself: the management API's counts lag by its stats interval.
      let last = await channel.checkQueue(q.name);
      const consumed = await waitFor(
        q.name,
        async () => {
          last = await channel.checkQueue(q.name);
          return last.consumerCount > 0 && last.messageCount <= maxBacklog;
        },
        { timeoutMs: waitMs, intervalMs: 500 },
      ).then(
        () => true,
        () => false,
      );
      const detail = `${last.messageCount} ready, ${last.consumerCount} consumers`;
      ok = book.check(`queue ${q.name} consumed again`, consumed, detail) && ok;
    }
    return ok;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

// Settle this many dead letters per publisher-confirm round trip.
const REPLAY_BATCH = 100;
// A quorum queue may drop acks that arrive just before their channel closes (rabbitmq-server#10327).
const ACK_GRACE_MS = 500;

/** Replay one non-empty dead-letter queue into its work queue when its rule allows; false when refused or failed. */
async function replayDlq(book: Runbook, stack: LocalStack, dlq: Queue): Promise<boolean> {
  const target = dlq.name.slice(0, -".dlq".length);
  const rule = REPLAY[target];
  if (!rule || !rule.safe) {
    const why =
      rule && !rule.safe ? rule.why : `no replay rule for ${target}: its consumer is not known to be idempotent`;
    return book.check(`replay ${dlq.name}`, false, `refused: ${why}; inspect it, then --purge-dlq`);
  }
  const progress = { moved: 0, kept: 0 };
  const done = await book.act(`replay the messages of ${dlq.name} into ${target}`, () =>
    moveMessages(amqpUrl(stack, "admin"), dlq.name, target, rule.valid, progress),
  );
  if (!done && progress.moved + progress.kept === 0) return false;
  const detail = `${progress.moved} replayed into ${target}, ${progress.kept} kept (not valid ${target} messages)`;
  if (!done) return book.check(`replayed ${dlq.name}`, false, `${detail} before the failure`);
  return book.check(
    `replayed ${dlq.name}`,
    progress.kept === 0,
    progress.kept ? `${detail}: inspect, then --purge-dlq` : detail,
  );
}

/**
 * Move what `dlq` holds now into `target`: each message is taken unacknowledged, published with a
 * publisher confirm (to `target` when valid, else back to the tail of `dlq`), and acknowledged only
 * after the confirm. A failure at any point leaves the message in the DLQ (returned on close); at
 * worst it is then in both queues, which is why only idempotent consumers get a replay.
 */
async function moveMessages(
  url: string,
  dlq: string,
  target: string,
  valid: (body: Buffer) => boolean,
  progress: { moved: number; kept: number },
): Promise<void> {
  const connection = await amqp.connect(url, { timeout: 5000 });
  try {
    const channel = await connection.createConfirmChannel();
    // Bounded by what is there now: messages kept go to the tail and are not taken twice in one run.
    let left = (await channel.checkQueue(dlq)).messageCount;
    while (left > 0) {
      const batch: amqp.GetMessage[] = [];
      while (batch.length < Math.min(left, REPLAY_BATCH)) {
        const m = await channel.get(dlq, { noAck: false });
        if (!m) break;
        batch.push(m);
      }
      if (batch.length === 0) break;
      const verdicts = batch.map((m) => valid(m.content));
      batch.forEach((m, i) =>
        verdicts[i]
          ? channel.sendToQueue(target, m.content, republished(m, { "x-replayed-from": dlq }))
          : channel.sendToQueue(dlq, m.content, republished(m, {})),
      );
      await channel.waitForConfirms(); // throws when the broker refused one: nothing is acked then
      for (const m of batch) channel.ack(m);
      progress.moved += verdicts.filter(Boolean).length;
      progress.kept += verdicts.filter((v) => !v).length;
      left -= batch.length;
    }
    await new Promise((resolve) => setTimeout(resolve, ACK_GRACE_MS));
    await channel.close();
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** The publish options that keep a dead letter's identity (id, timestamp, headers), plus `extra` headers. */
function republished(m: amqp.GetMessage, extra: Record<string, string>): amqp.Options.Publish {
  const p = m.properties;
  // The broker counts deliveries afresh in the work queue.
  const { "x-delivery-count": _count, ...headers } = p.headers ?? {};
  return {
    persistent: true,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    messageId: p.messageId,
    correlationId: p.correlationId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
    headers: { ...headers, ...extra },
  };
}
