import { randomUUID } from "node:crypto";
import type { LoadPlan } from "../load/closed";
import { apiCall, createSale, endSale, type LoadUser } from "../load/fixtures";
import { saleInvariants, waitOrders, type AcceptedPurchase } from "../load/invariants";
import { roundRobin } from "../load/round-robin";
import { entryUrl } from "../load/target";
import type { BenchContext } from "./measure";
import { closed, open, openRate, writeScenario, type WriteRun } from "./measure";
import type { LoadRun, ScenarioResult } from "./results";

const PURCHASE = "POST /api/v1/flash-sales/:id/purchases";

/** Purchases of one sale, request i by `userOf(i)`, each with its own Idempotency-Key; 202s go to `accepted`. */
function purchasePlan(b: BenchContext, saleId: number, userOf: (i: number) => LoadUser, accepted: AcceptedPurchase[]) {
  const plan: LoadPlan = {
    url: entryUrl(b.target),
    request: (i) => ({
      method: "POST",
      path: `/api/v1/flash-sales/${saleId}/purchases`,
      headers: { authorization: `Bearer ${userOf(i).token}`, "idempotency-key": randomUUID() },
    }),
    expected: (key) => ["202", "409 sold_out", "409 limit_reached"].includes(key),
    onAnswer(i, status, body) {
      if (status !== 202) return;
      const user = userOf(i);
      accepted.push({
        requestId: (JSON.parse(body) as { requestId: string }).requestId,
        userId: user.id,
        token: user.token,
      });
    },
  };
  return plan;
}

/** A run against a fresh sale, then the drain and the invariants. */
async function saleRun(
  b: BenchContext,
  sale: { stock: number; perUserLimit: number },
  userOf: (i: number) => LoadUser,
  run: (plan: LoadPlan) => Promise<LoadRun>,
): Promise<WriteRun> {
  const saleId = await createSale(b.target, sale);
  const accepted: AcceptedPurchase[] = [];
  const result = await run(purchasePlan(b, saleId, userOf, accepted));
  const drainMs = await waitOrders(b.target, saleId, accepted.length);
  b.log(`  ${result.model}: ${accepted.length} accepted, drained ${drainMs} ms after the run`);
  const invariants = await saleInvariants(b.target, saleId, accepted);
  await endSale(b.target, saleId);
  return { run: result, drainMs, drained: accepted.length, invariants };
}

/**
 * Flash-sale storm: `stock` units, one per user, twice as many buyers as units — admissions until sold
 * out, then rejections. The open run sells half as many units at its fixed rate.
 */
export async function flashSaleStorm(b: BenchContext, stock: number): Promise<Omit<ScenarioResult, "ratioToCeiling">> {
  if (b.users.length < 2 * stock)
    throw new Error(`the storm needs ${2 * stock} users, the bench made ${b.users.length}`);
  const closedPart = await saleRun(
    b,
    { stock, perUserLimit: 1 },
    // Request i by user i: the closed run's 2·stock requests never wrap around the users.
    (i) => roundRobin(b.users, i, "bench user"),
    (plan) => closed(b, plan, 2 * stock),
  );
  const rate = openRate(b.settings, closedPart.run.rps);
  const openStock = Math.max(1, Math.floor((rate * b.settings.durationSeconds) / 2));
  const openPart = await saleRun(
    b,
    { stock: openStock, perUserLimit: 1 },
    (i) => roundRobin(b.users, i, "bench user"),
    (plan) => open(b, plan, closedPart.run.rps),
  );
  const title = `Flash-sale storm (${stock} units, ${2 * stock} buyers)`;
  return writeScenario({ id: "flash-sale-storm", title, path: PURCHASE, ceiling: "koa-bare" }, closedPart, openPart);
}

/** Pure admission: stock never runs out (1,000,000 units, 100 per user); every answer should be 202. */
export async function pureAdmission(b: BenchContext): Promise<Omit<ScenarioResult, "ratioToCeiling">> {
  const sale = { stock: 1_000_000, perUserLimit: 100 };
  const userOf = (i: number) => roundRobin(b.users, i, "bench user");
  const closedPart = await saleRun(b, sale, userOf, (plan) => closed(b, plan));
  const openPart = await saleRun(b, sale, userOf, (plan) => open(b, plan, closedPart.run.rps));
  const title = "Pure admission (stock never runs out)";
  return writeScenario({ id: "pure-admission", title, path: PURCHASE, ceiling: "koa-bare" }, closedPart, openPart);
}

/** Sold-out rejections: a sale of one unit, bought, then hammered; every answer should be 409 sold_out. */
export async function soldOut(b: BenchContext): Promise<Omit<ScenarioResult, "ratioToCeiling">> {
  const [first, ...others] = b.users;
  if (!first) throw new Error("sold-out rejections need a user to buy the one unit");
  const saleId = await createSale(b.target, { stock: 1, perUserLimit: 1 });
  const bought = await apiCall<{ requestId: string }>(b.target, "POST", `/flash-sales/${saleId}/purchases`, {
    token: first.token,
    headers: { "idempotency-key": randomUUID() },
    expect: 202,
  });
  const accepted: AcceptedPurchase[] = [{ requestId: bought.requestId, userId: first.id, token: first.token }];
  const plan = purchasePlan(b, saleId, (i) => roundRobin(others, i, "other user"), accepted);
  const closedRun = await closed(b, plan);
  const openRun = await open(b, plan, closedRun.rps);
  await waitOrders(b.target, saleId, accepted.length);
  const invariants = await saleInvariants(b.target, saleId, accepted);
  await endSale(b.target, saleId);
  return {
    id: "sold-out",
    title: "Sold-out rejections",
    path: PURCHASE,
    ceiling: "koa-bare",
    closed: closedRun,
    open: openRun,
    invariants,
  };
}
