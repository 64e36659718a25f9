import { saleStatus, statusFromRedis, statusWithOrder, type RequestState } from "./status";

const now = Date.parse("2026-11-29T10:00:00.000Z");
const window = { startsAt: new Date(now - 60_000), endsAt: new Date(now + 60_000) };

describe("saleStatus", () => {
  it.each([
    ["before the start", { startsAt: new Date(now + 1), endsAt: window.endsAt }, 10, "scheduled"],
    ["from the start ms", { startsAt: new Date(now), endsAt: window.endsAt }, 10, "active"],
    ["with units left", window, 1, "active"],
    ["with none left", window, 0, "sold_out"],
    ["with a counter below zero (drift)", window, -2, "sold_out"],
    ["at the end ms", { startsAt: window.startsAt, endsAt: new Date(now) }, 10, "ended"],
    ["ended and sold out: ended wins", { startsAt: window.startsAt, endsAt: new Date(now - 1) }, 0, "ended"],
  ])("%s → %s", (_, sale, remaining, status) => {
    expect(saleStatus(sale, remaining, now)).toBe(status);
  });
});

const alice = 7;
const bob = 8;
const reserved = (userId: number): RequestState["reservation"] => ({ userId, seq: 1, admittedAtMs: now });
const state = (s: Partial<RequestState>): RequestState => ({
  reservation: null,
  orderId: null,
  failReason: null,
  ...s,
});

describe("statusFromRedis", () => {
  it.each([
    [
      "confirmed in Redis",
      state({ reservation: reserved(alice), orderId: 55 }),
      { kind: "status", status: { status: "confirmed", orderId: 55 } },
    ],
    [
      "failed in Redis",
      state({ reservation: reserved(alice), failReason: "sold_out" }),
      { kind: "status", status: { status: "failed", reason: "sold_out" } },
    ],
    ["another user's request", state({ reservation: reserved(bob), orderId: 55 }), { kind: "not_found" }],
    [
      "a reservation not yet persisted: MySQL may have its order",
      state({ reservation: reserved(alice) }),
      { kind: "ask-mysql" },
    ],
    ["unknown to Redis", state({}), { kind: "ask-mysql" }],
    ["Redis could not answer", null, { kind: "ask-mysql" }],
    // Redis keeps the confirmation after a failover lost the reservation: the order id is the answer.
    [
      "confirmed without a reservation",
      state({ orderId: 55 }),
      { kind: "status", status: { status: "confirmed", orderId: 55 } },
    ],
  ] as const)("%s", (_, redis, answer) => {
    expect(statusFromRedis(redis, alice)).toEqual(answer);
  });
});

describe("statusWithOrder", () => {
  const order = (userId: number) => ({ id: 55, userId });
  it.each([
    [
      "MySQL has the caller's order",
      state({ reservation: reserved(alice) }),
      order(alice),
      { kind: "status", status: { status: "confirmed", orderId: 55 } },
    ],
    [
      "MySQL has it while Redis is down",
      null,
      order(alice),
      { kind: "status", status: { status: "confirmed", orderId: 55 } },
    ],
    ["MySQL's order is another user's", null, order(bob), { kind: "not_found" }],
    [
      "no order yet, reservation held: queued",
      state({ reservation: reserved(alice) }),
      null,
      { kind: "status", status: { status: "queued" } },
    ],
    ["no order and Redis knows nothing of it", state({}), null, { kind: "not_found" }],
    ["no order and Redis could not answer: unknown (503)", null, null, { kind: "unknown" }],
  ] as const)("%s", (_, redis, mysql, answer) => {
    expect(statusWithOrder(redis, mysql, alice)).toEqual(answer);
  });
});
