/** RabbitMQ as the runbooks read it: counts from the broker itself, not the management API's samples. */
import amqp from "amqplib";

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
