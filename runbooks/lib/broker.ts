/** RabbitMQ as the runbooks read it: counts from the broker itself, not the management API's samples. */
import amqp from "amqplib";
import { hostPort } from "../../infra/topology";
import { amqpUrl } from "../../infra/targets";
import type { RunbookStack } from "./stack";

/**
 * Ready messages and consumers of each queue as the broker counts them now (AMQP queue.declare
 * passive). The management API's counts lag by its statistics interval and are missing for a few
 * seconds after a start, so a runbook run right after a fix would judge a stale picture.
 */
export async function brokerCounts(
  url: string,
  names: string[],
): Promise<Map<string, { messageCount: number; consumerCount: number }>> {
  const connection = await amqp.connect(url, { timeout: 5000 });
  try {
    const channel = await connection.createChannel();
    const counts = new Map<string, { messageCount: number; consumerCount: number }>();
    for (const name of names) counts.set(name, await channel.checkQueue(name));
    return counts;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** A queue of the stack's vhost: ready and consumers from the broker, unacknowledged as last sampled. */
export interface LiveQueue {
  name: string;
  ready: number;
  /** The management API's sample; undefined until it has one. */
  unacked?: number;
  consumers: number;
}

/** The management API's base URL for the stack's vhost queues, and its admin credentials. */
export function managementApi(stack: Pick<RunbookStack, "topology" | "addresses">) {
  const { vhost, users } = stack.topology.rabbitmq;
  return {
    queues: `http://${hostPort(stack.addresses.rabbitmqManagement)}/api/queues/${encodeURIComponent(vhost)}`,
    headers: {
      authorization: `Basic ${Buffer.from(`${users.admin.name}:${users.admin.password}`).toString("base64")}`,
    },
  };
}

/** Every queue of the stack's vhost: the management API names them, the broker counts them. */
export async function liveQueues(stack: Pick<RunbookStack, "topology" | "addresses">): Promise<LiveQueue[]> {
  const api = managementApi(stack);
  const res = await fetch(api.queues, { headers: api.headers, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${api.queues}: HTTP ${res.status}`);
  const listed = (await res.json()) as Array<{ name: string; messages_unacknowledged?: number }>;
  const live = await brokerCounts(
    amqpUrl(stack, "admin"),
    listed.map((q) => q.name),
  );
  return listed.map((q) => ({
    name: q.name,
    ready: live.get(q.name)!.messageCount,
    unacked: q.messages_unacknowledged,
    consumers: live.get(q.name)!.consumerCount,
  }));
}
