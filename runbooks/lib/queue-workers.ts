/**
 * The queue-drain runbook's workers: start the topology's stopped consumers of stalled work queues
 * through whatever runs the stack's processes, then wait until the queues are consumed again.
 */
import amqp from "amqplib";
import { amqpUrl } from "../../infra/targets";
import { spinner } from "zx";
import type { Runbook } from "./runbook";
import { waitUntil } from "./shell";
import type { RunbookStack } from "./stack";

/** The stack processes that consume each RabbitMQ work queue. */
const CONSUMERS: Record<string, RegExp> = { orders: /^worker-orders-\d+$/, tracking: /^tracker$/ };

/**
 * Report the stopped workers of each stalled queue and, with --start-workers, start them. `ok` is
 * false when every stalled queue stays stalled for sure (nothing to start, or a start failed).
 */
export async function startWorkers(book: Runbook, stack: RunbookStack, stalled: string[], start: boolean) {
  book.step("workers of the queues with a backlog or no consumer");
  const started: string[] = [];
  let processes;
  try {
    processes = await stack.control.list();
  } catch (err) {
    return { ok: book.check(`processes of ${stack.description}`, false, (err as Error).message), started };
  }
  let ok = true;
  for (const queue of stalled) {
    const pattern = CONSUMERS[queue];
    const mine = pattern ? processes.filter((p) => pattern.test(p.name)) : [];
    const stopped = mine.filter((p) => !p.running).map((p) => p.name);
    const detail = `${mine.length - stopped.length} of ${mine.length} running`;
    if (mine.length === 0) ok = book.check(`workers of ${queue}`, false, "this stack runs no process for it");
    else if (stopped.length === 0)
      ok = book.check(`workers of ${queue}`, false, `${detail}: more means raising their processes in the topology`);
    else {
      book.check(`workers of ${queue}`, false, `${detail}, stopped: ${stopped.join(", ")}`);
      if (!start) ok = false;
      else {
        let all = true;
        for (const name of stopped) all = (await book.act(`start ${name}`, () => stack.control.start(name))) && all;
        if (all) started.push(queue);
        ok &&= all;
      }
    }
  }
  return { ok, started };
}

/** After starting workers: wait until each queue has consumers and at most maxBacklog ready, and report it. */
export async function verifyConsumed(
  book: Runbook,
  stack: RunbookStack,
  started: string[],
  maxBacklog: number,
  waitMs: number,
) {
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
    for (const queue of started) {
      book.step(`waiting up to ${waitMs / 1000} s for consumers on ${queue} and its backlog`);
      // checkQueue asks the broker itself: the management API's counts lag by its stats interval.
      let last = await channel.checkQueue(queue);
      const drained = async () => {
        last = await channel.checkQueue(queue);
        return last.consumerCount > 0 && last.messageCount <= maxBacklog;
      };
      const consumed = await spinner(`waiting for ${queue}'s consumers`, () =>
        waitUntil(queue, drained, { timeoutMs: waitMs, intervalMs: 500 }),
      ).then(
        () => true,
        () => false,
      );
      const detail = `${last.messageCount} ready, ${last.consumerCount} consumers`;
      ok = book.check(`queue ${queue} consumed again`, consumed, detail) && ok;
    }
    return ok;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
