/**
 * The queue-drain runbook's dead-letter replay: which dead-letter queues may go back to their work
 * queue (only where the consumer is idempotent), and moving their messages without losing any.
 */
import amqp from "amqplib";
import { sleep } from "zx";
import { amqpUrl } from "../../infra/targets";
import { OrderMessageSchema } from "../../services/src/modules/flash-sales/schema";
import type { Runbook } from "./runbook";
import type { RunbookStack } from "./stack";

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

// Settle this many dead letters per publisher-confirm round trip.
const REPLAY_BATCH = 100;
// A quorum queue may drop acks that arrive just before their channel closes (rabbitmq-server#10327).
const ACK_GRACE_MS = 500;

/** Replay one non-empty dead-letter queue into its work queue when its rule allows; false when refused or failed. */
export async function replayDlq(book: Runbook, stack: RunbookStack, dlq: string): Promise<boolean> {
  const target = dlq.slice(0, -".dlq".length);
  const rule = REPLAY[target];
  if (!rule || !rule.safe) {
    const why =
      rule && !rule.safe ? rule.why : `no replay rule for ${target}: its consumer is not known to be idempotent`;
    return book.check(`replay ${dlq}`, false, `refused: ${why}; inspect it, then --purge-dlq`);
  }
  const progress = { moved: 0, kept: 0 };
  const done = await book.act(`replay the messages of ${dlq} into ${target}`, () =>
    moveMessages(amqpUrl(stack, "admin"), dlq, target, rule.valid, progress),
  );
  if (!done && progress.moved + progress.kept === 0) return false;
  const detail = `${progress.moved} replayed into ${target}, ${progress.kept} kept (not valid ${target} messages)`;
  if (!done) return book.check(`replayed ${dlq}`, false, `${detail} before the failure`);
  return book.check(
    `replayed ${dlq}`,
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
    await sleep(ACK_GRACE_MS);
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
