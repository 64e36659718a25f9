import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { amqpUrl } from "../../infra/targets/local/components/rabbitmq";
import { eventually, getJson, testAddresses, testTopology } from "./clients";
import { first } from "../support/checked";

/** Take messages from a queue until the one with `messageId` appears; settle each (ack, or nack without requeue). */
function takeMessage(channel: amqp.Channel, queue: string, messageId: string, settle: "ack" | "reject") {
  return eventually(async () => {
    const message = await channel.get(queue, { noAck: false });
    if (!message) return undefined;
    if (settle === "ack") channel.ack(message);
    else channel.nack(message, false, false);
    return message.properties.messageId === messageId ? message : undefined;
  });
}

describe("RabbitMQ with the rendered definitions", () => {
  const t = testTopology();
  const a = testAddresses();
  const ctx = { topology: t, addresses: a };
  const admin = t.rabbitmq.users.admin;
  const auth = { authorization: `Basic ${Buffer.from(`${admin.name}:${admin.password}`).toString("base64")}` };
  const api = (p: string) => `http://${a.rabbitmqManagement.host}:${a.rabbitmqManagement.port}/api${p}`;
  const vhost = encodeURIComponent(t.rabbitmq.vhost);

  it("declares every queue from the definitions as a durable quorum queue with its dead-letter exchange", async () => {
    for (const queue of t.rabbitmq.queues) {
      const { status, body } = await getJson<{ durable: boolean; arguments: Record<string, unknown> }>(
        api(`/queues/${vhost}/${encodeURIComponent(queue.name)}`),
        auth,
      );
      expect(status).toBe(200);
      expect(body.durable).toBe(true);
      expect(body.arguments).toMatchObject({
        "x-queue-type": queue.type,
        "x-dead-letter-exchange": t.rabbitmq.deadLetterExchange,
      });
    }
    const dlx = await getJson<{ durable: boolean }>(
      api(`/exchanges/${vhost}/${encodeURIComponent(t.rabbitmq.deadLetterExchange)}`),
      auth,
    );
    expect(dlx.status).toBe(200);
  });

  it("consumes a message published with publisher confirms", async () => {
    const connection = await amqp.connect(amqpUrl(ctx, "app"));
    try {
      const channel = await connection.createConfirmChannel();
      // A queue from the definitions that no service consumes (the tracker consumes "tracking").
      const queue = `${first(t.rabbitmq.queues, "a queue in the topology").name}.dlq`;
      const id = randomUUID();
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ id })), { persistent: true, messageId: id });
      await channel.waitForConfirms();

      // Other tests' dead letters may wait ahead of ours: take them all until ours comes.
      const seen = await eventually(async () => {
        for (let message = await channel.get(queue); message; message = await channel.get(queue)) {
          channel.ack(message);
          if (message.properties.messageId === id) return JSON.parse(message.content.toString()) as { id: string };
        }
        return undefined;
      });
      expect(seen.id).toBe(id);
    } finally {
      await connection.close();
    }
  });

  it("dead-letters a message its consumer rejects to the queue's dead-letter queue", async () => {
    const connection = await amqp.connect(amqpUrl(ctx, "app"));
    try {
      const channel = await connection.createConfirmChannel();
      // The orders worker consumes "orders" and rejects what fails its schema; the rejection must
      // travel through the dead-letter exchange into orders.dlq rather than be lost or requeued.
      const queue = first(t.rabbitmq.queues, "a queue in the topology").name;
      const id = randomUUID();
      channel.sendToQueue(queue, Buffer.from('{"not":"an order"}'), { persistent: true, messageId: id });
      await channel.waitForConfirms();
      const dead = await takeMessage(channel, `${queue}.dlq`, id, "ack");
      expect(dead.properties.messageId).toBe(id);
    } finally {
      await connection.close();
    }
  });

  it("refuses the guest account", async () => {
    const url = `amqp://guest:guest@${a.rabbitmq.host}:${a.rabbitmq.port}/`;
    await expect(amqp.connect(url)).rejects.toThrow(/ACCESS_REFUSED|403/);
  });
});
