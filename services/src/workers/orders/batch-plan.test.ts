import type { OrderKeyRow } from "../../modules/flash-sales/repository";
import type { OrderMessage } from "../../modules/flash-sales/schema";
import { batchResults, ordersOwners, planBatch, type BatchDecision } from "./batch-plan";

const SALE = 1;
// A message by request name ("r1") with its user and seat: the request ids only need to differ.
const msg = (request: string, userId: number, seq = 1): OrderMessage => ({
  saleId: SALE,
  requestId: request,
  userId,
  seq,
  admittedAtMs: 1_700_000_000_000,
});
const ordered = (
  request: string,
  userId: number,
  seq: number,
  saleId: number | null = SALE,
  id = 900,
): OrderKeyRow => ({
  id,
  requestId: request,
  saleId,
  userId,
  seq,
});

describe("planBatch", () => {
  it.each<[string, number, OrderMessage[], OrderKeyRow[], BatchDecision[]]>([
    ["units for everyone", 5, [msg("r1", 1), msg("r2", 2)], [], [{ kind: "new" }, { kind: "new" }]],
    [
      "units in arrival order while they last, the rest sold out",
      2,
      [msg("r1", 1), msg("r2", 2), msg("r3", 3)],
      [],
      [{ kind: "new" }, { kind: "new" }, { kind: "failed", reason: "sold_out" }],
    ],
    ["nothing left", 0, [msg("r1", 1)], [], [{ kind: "failed", reason: "sold_out" }]],
    [
      "a redelivered request that has its order: duplicate, even when nothing is left",
      0,
      [msg("r1", 1)],
      [ordered("r1", 1, 1, SALE, 77)],
      [{ kind: "duplicate", orderId: 77 }],
    ],
    [
      "a duplicate takes no unit from the others",
      1,
      [msg("r1", 1), msg("r2", 2)],
      [ordered("r1", 1, 1, SALE, 77)],
      [{ kind: "duplicate", orderId: 77 }, { kind: "new" }],
    ],
    [
      "a seat (user, seq) another request already holds: limit_reached",
      5,
      [msg("r2", 1, 1)],
      [ordered("r1", 1, 1)],
      [{ kind: "failed", reason: "limit_reached" }],
    ],
    ["the user's next seat is free", 5, [msg("r2", 1, 2)], [ordered("r1", 1, 1)], [{ kind: "new" }]],
    ["a seat held in another sale does not count", 5, [msg("r2", 1, 1)], [ordered("r9", 1, 1, 2)], [{ kind: "new" }]],
    [
      "a request id ordered under another sale is left to the insert (its unique key refuses the batch)",
      5,
      [msg("r1", 1, 1)],
      [ordered("r1", 4, 1, 2)],
      [{ kind: "new" }],
    ],
    [
      "two requests for one seat in one batch: the second is limit_reached",
      5,
      [msg("r1", 1, 1), msg("r2", 1, 1)],
      [],
      [{ kind: "new" }, { kind: "failed", reason: "limit_reached" }],
    ],
    [
      "a request repeated in the batch shares its first copy's fate and takes no unit",
      1,
      [msg("r1", 1), msg("r1", 1), msg("r2", 2)],
      [],
      [{ kind: "new" }, { kind: "same", as: 0 }, { kind: "failed", reason: "sold_out" }],
    ],
    [
      "a sold-out request leaves its seat free for nobody else to take",
      1,
      [msg("r1", 1), msg("r2", 2, 1), msg("r3", 2, 1)],
      [],
      [{ kind: "new" }, { kind: "failed", reason: "sold_out" }, { kind: "failed", reason: "sold_out" }],
    ],
  ])("%s", (_, remaining, messages, existing, plan) => {
    expect(planBatch(SALE, remaining, messages, existing)).toEqual(plan);
  });
});

describe("ordersOwners", () => {
  it.each<[string, BatchDecision[], number[], number[]]>([
    ["new and duplicate orders' users", [{ kind: "new" }, { kind: "duplicate", orderId: 7 }], [1, 2], [1, 2]],
    ["not a user whose request failed", [{ kind: "new" }, { kind: "failed", reason: "sold_out" }], [1, 2], [1]],
    [
      "a repeated copy counts as its first (failed)",
      [
        { kind: "failed", reason: "limit_reached" },
        { kind: "same", as: 0 },
      ],
      [1, 1],
      [],
    ],
    ["a repeated copy counts as its first (new)", [{ kind: "new" }, { kind: "same", as: 0 }], [3, 3], [3]],
    ["a user with two new orders, once", [{ kind: "new" }, { kind: "new" }], [1, 1], [1]],
  ])("%s", (_, plan, users, owners) => {
    const messages = users.map((userId, i) => msg(`r${i}`, userId));
    expect(ordersOwners(plan, messages)).toEqual(owners);
  });
});

describe("batchResults", () => {
  const messages = [msg("r1", 1), msg("r2", 2), msg("r3", 3), msg("r1", 1), msg("r3", 3)];
  const plan: BatchDecision[] = [
    { kind: "new" },
    { kind: "duplicate", orderId: 70 },
    { kind: "failed", reason: "sold_out" },
    { kind: "same", as: 0 },
    { kind: "same", as: 2 },
  ];

  it.each([
    ["a new order: processed, its id recorded", 0, "processed", { kind: "confirmed", orderId: 501 }],
    ["an order that existed: duplicate, its id recorded", 1, "duplicate", { kind: "confirmed", orderId: 70 }],
    ["a refusal: failed, its reason recorded", 2, "failed", { kind: "failed", reason: "sold_out" }],
    ["a copy of a new order: a duplicate of it", 3, "duplicate", { kind: "confirmed", orderId: 501 }],
    ["a copy of a refusal: failed the same way", 4, "failed", { kind: "failed", reason: "sold_out" }],
  ])("%s", (_, i, outcome, record) => {
    expect(batchResults(plan, messages, new Map([["r1", 501]]))[i]).toEqual({ outcome, record });
  });

  it("refuses a committed plan whose new order cannot be found", () => {
    expect(() => batchResults([{ kind: "new" }], [msg("r1", 1)], new Map())).toThrow(/not found after its insert/);
  });
});
