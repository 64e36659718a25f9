import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { amqpUrl } from "../../infra/targets/local/components/rabbitmq";
import { isAlive } from "../../infra/targets/local/supervisor";
import { eventually, testAddresses, testTopology } from "../stack/clients";
import {
  acceptedOf,
  awaitOutcomes,
  bounded,
  buildBuyers,
  buildSale,
  mysqlView,
  purchase,
  reconciliation,
  stackPid,
} from "./support";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The process and its descendants (the rabbitmq-server script may run the Erlang VM as a child).
function tree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    // no children
  }
  return [pid, ...children.flatMap(tree)];
}

async function storm(saleId: number, buyers: Awaited<ReturnType<typeof buildBuyers>>) {
  const answers = await bounded(
    buyers.map((b, i) => () => purchase(saleId, b, randomUUID(), i)),
    100,
  );
  return acceptedOf(buyers, answers);
}

describe("flash sales under failure", () => {
  it("makes one order from a message delivered twice", async () => {
    const [buyer] = await buildBuyers(1);
    const saleId = await buildSale({ stock: 5 });
    const message = { saleId, requestId: randomUUID(), userId: buyer.id, seq: 1, admittedAtMs: Date.now() };
    const connection = await amqp.connect(amqpUrl({ topology: testTopology(), addresses: testAddresses() }, "app"));
    try {
      const channel = await connection.createConfirmChannel();
      for (let i = 0; i < 2; i++)
        channel.sendToQueue("orders", Buffer.from(JSON.stringify(message)), {
          persistent: true,
          messageId: message.requestId,
        });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    await eventually(async () => ((await mysqlView(saleId)).orders === 1 ? true : undefined));
    await sleep(1000); // room for the second delivery to land, if it were going to make a second order
    expect(await mysqlView(saleId)).toEqual({ orders: 1, maxPerUser: 1, remaining: 4 });
    // The order never passed through Redis: the reconciler restores its reservation and the counter.
    expect(await reconciliation(saleId)).toMatchObject({ orders: 1, reservations: 1, redisRemaining: 4 });
  });

  it("loses nothing when an orders worker is killed with SIGKILL mid-storm", async () => {
    const buyers = await buildBuyers(400);
    const saleId = await buildSale({ stock: 150 });
    const pid = stackPid("worker-orders-1");
    const killer = sleep(150).then(() => process.kill(pid, "SIGKILL"));
    const accepted = await storm(saleId, buyers);
    await killer;
    expect(accepted).toHaveLength(150);
    const outcomes = await awaitOutcomes(saleId, accepted, 45_000);
    expect(outcomes.filter((o) => o.status !== "confirmed")).toEqual([]);
    expect(await mysqlView(saleId)).toEqual({ orders: 150, maxPerUser: 1, remaining: 0 });
    expect(await reconciliation(saleId)).toMatchObject({ drift: 0, pending: 0, mysqlConsistent: true });
    // The supervisor restarts the worker, so later tests see the whole stack.
    await eventually(async () => (!isAlive(pid) && stackPid("worker-orders-1") !== pid ? true : undefined), 30_000);
  });

  it("loses no 202 while RabbitMQ is frozen (SIGSTOP) and thawed (SIGCONT)", async () => {
    const buyers = await buildBuyers(40);
    const saleId = await buildSale({ stock: 30 });
    const pids = tree(stackPid("rabbitmq"));
    pids.forEach((p) => process.kill(p, "SIGSTOP"));
    let accepted: Awaited<ReturnType<typeof storm>>;
    try {
      accepted = await storm(saleId, buyers); // each unconfirmed publish times out: the reservation stands
    } finally {
      pids.forEach((p) => process.kill(p, "SIGCONT"));
    }
    expect(accepted).toHaveLength(30);
    const outcomes = await awaitOutcomes(saleId, accepted, 50_000);
    expect(outcomes.filter((o) => o.status !== "confirmed")).toEqual([]);
    expect(await mysqlView(saleId)).toEqual({ orders: 30, maxPerUser: 1, remaining: 0 });
    expect(await reconciliation(saleId)).toMatchObject({ drift: 0, pending: 0, mysqlConsistent: true });
  });
});
