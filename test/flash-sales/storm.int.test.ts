import { randomUUID } from "node:crypto";
import { call } from "../support/api";
import { eventually } from "../stack/clients";
import { awaitOutcomes, bounded, buildBuyers, buildSale, mysqlView, purchase, reconciliation } from "./support";
import { first, zip } from "../support/checked";

describe("a flash-sale storm", () => {
  it("sells exactly the stock to 2,000 concurrent requests, nobody over the limit, every 202 confirmed", async () => {
    const buyers = await buildBuyers(1000);
    const saleId = await buildSale({ stock: 100, perUserLimit: 1 });
    const attempts = buyers.flatMap((buyer) => [buyer, buyer]).map((buyer, i) => ({ buyer, key: randomUUID(), i }));

    const started = Date.now();
    const answers = await bounded(
      attempts.map((a) => () => purchase(saleId, a.buyer, a.key, a.i)),
      250,
    );
    const admissionMs = Date.now() - started;
    const accepted = zip(attempts, answers)
      .filter(([, answer]) => answer.status === 202)
      .map(([a, answer]) => ({ buyer: a.buyer, requestId: answer.body.requestId! }));
    const refused = answers.filter((a) => a.status !== 202);
    const outcomes = await awaitOutcomes(saleId, accepted);
    const settledMs = Date.now() - started;
    process.stdout.write(`  storm: admission ${admissionMs} ms, all confirmed ${settledMs} ms\n`);

    expect(accepted).toHaveLength(100);
    expect(refused.filter((a) => a.status !== 409 || !["sold_out", "limit_reached"].includes(a.body.error!))).toEqual(
      [],
    );
    expect(outcomes.filter((o) => o.status !== "confirmed")).toEqual([]);
    expect(await mysqlView(saleId)).toEqual({ orders: 100, maxPerUser: 1, remaining: 0 });
    expect(await reconciliation(saleId)).toMatchObject({
      drift: 0,
      orders: 100,
      reservations: 100,
      pending: 0,
      redisRemaining: 0,
      mysqlRemaining: 0,
      mysqlConsistent: true,
    });
    const { buyer } = first(accepted, "an accepted purchase");
    const sale = await call("GET", `/flash-sales/${saleId}`, { token: buyer.token });
    expect(sale.body).toMatchObject({ remaining: 0, status: "sold_out", stock: 100 });
  });

  it("persists every order of a 2,000-admission storm and reports how long the workers take to drain it", async () => {
    const stock = 2000;
    const buyers = await buildBuyers(stock);
    const saleId = await buildSale({ stock, perUserLimit: 1 });
    const started = Date.now();
    const answers = await bounded(
      buyers.map((b, i) => () => purchase(saleId, b, randomUUID(), i)),
      250,
    );
    const stormEnded = Date.now();
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    // Drained: MySQL holds every admitted order (polled straight from MySQL, not through the API).
    await eventually(async () => ((await mysqlView(saleId)).orders === stock ? true : undefined), 60_000, 50);
    const drainMs = Date.now() - stormEnded;
    expect(await mysqlView(saleId)).toEqual({ orders: stock, maxPerUser: 1, remaining: 0 });
    process.stdout.write(
      `  storm: ${stock} admissions in ${stormEnded - started} ms; workers drained ${drainMs} ms after the last 202\n`,
    );
  });
});
