import { randomUUID } from "node:crypto";
import { eventually } from "../stack/clients";
import {
  acceptedOf,
  awaitOutcomes,
  bounded,
  buildBuyers,
  buildSale,
  mysqlView,
  purchase,
  settledReconciliation,
  stackPid,
} from "./support";

describe("a flash sale while RabbitMQ crashes and restarts", () => {
  it("loses no 202: every accepted purchase is confirmed after the broker comes back", async () => {
    const stock = 100;
    const buyers = await buildBuyers(200);
    const saleId = await buildSale({ stock });
    const broker = stackPid("rabbitmq");

    // SIGKILL the broker's whole process group (the script and its Erlang VM): a crash, not a stop.
    const killer = new Promise((r) => setTimeout(r, 100)).then(() => process.kill(-broker, "SIGKILL"));
    const answers = await bounded(
      buyers.map((b, i) => () => purchase(saleId, b, randomUUID(), i)),
      20,
    );
    await killer;
    expect(answers.filter((a) => ![202, 409].includes(a.status))).toEqual([]);
    const accepted = acceptedOf(buyers, answers);
    expect(accepted).toHaveLength(stock);

    // The supervisor restarts the broker; unconfirmed hand-offs are re-published from Redis.
    await eventually(async () => (stackPid("rabbitmq") !== broker ? true : undefined), 30_000, 250);
    const outcomes = await awaitOutcomes(saleId, accepted, 120_000);
    expect(outcomes.filter((o) => o.status !== "confirmed")).toEqual([]);
    expect(await mysqlView(saleId)).toEqual({ orders: stock, maxPerUser: 1, remaining: 0 });
    const report = await settledReconciliation(saleId);
    expect(report.orders).toBe(stock);
  });
});
