import {
  ADMIT_FRESH_MS,
  admissionDeadline,
  afterAdmission,
  parseAdmission,
  parseReservation,
  soldOutAnswer,
  whenRedisLacksSale,
  type Admission,
  type AdmissionStep,
  type Prior,
} from "./admission";

const rid = "0d9e4d52-6a39-8c1e-9f0e-3b7c1f2a4d10";

describe("parseReservation", () => {
  it("reads userId|seq|admittedAtMs", () => {
    expect(parseReservation("42|3|1700000000123")).toEqual({ userId: 42, seq: 3, admittedAtMs: 1700000000123 });
  });

  it("refuses a reservation missing a field instead of reading undefined", () => {
    expect(() => parseReservation("42|3")).toThrow('a reservation is "userId|seq|admittedAtMs", got "42|3"');
  });
});

describe("parseAdmission", () => {
  it.each<[string, unknown[], boolean, Admission]>([
    [
      "a new admission with its reservation",
      ["admitted", "1700000000500", rid, "7|1|1700000000500", "0"],
      true,
      {
        outcome: "admitted",
        requestId: rid,
        reservation: { userId: 7, seq: 1, admittedAtMs: 1700000000500 },
        settled: false,
        replicated: true,
      },
    ],
    [
      "a duplicate MySQL has settled, not yet on a replica",
      ["duplicate", "1700000000500", rid, "7|1|1700000000100", "1"],
      false,
      {
        outcome: "duplicate",
        requestId: rid,
        reservation: { userId: 7, seq: 1, admittedAtMs: 1700000000100 },
        settled: true,
        replicated: false,
      },
    ],
    [
      "a duplicate Redis knows only by its order (empty reservation)",
      ["duplicate", "1700000000500", rid, "", "1"],
      true,
      { outcome: "duplicate", requestId: rid, reservation: null, settled: true, replicated: true },
    ],
    ["a sold-out sale", ["sold_out", "1700000000500"], true, { outcome: "sold_out" }],
    ["a script that ran too late", ["stale", "1700000000500"], true, { outcome: "stale" }],
    ["a sale Redis does not know", ["missing", "1700000000500"], false, { outcome: "missing" }],
    ["another user's key", ["key_reused", "1700000000500"], true, { outcome: "key_reused" }],
  ])("%s", (_, reply, replicated, admission) => {
    expect(parseAdmission(reply, replicated)).toEqual({ admission, redisNowMs: 1700000000500 });
  });

  it.each([[["refunded", "1"]], [[]], [null]])("refuses a reply the script never gives: %j", (reply) => {
    expect(() => parseAdmission(reply ?? [], true)).toThrow(/admission script answered/);
  });
});

describe("admissionDeadline", () => {
  it.each([
    ["sent at once, clocks agree", { sentAtMs: 1000, calledAtMs: 1000, nowMs: 1000, redisNowMs: 1000 }, 1000],
    [
      "waited 30 ms for the previous batch's WAIT",
      { sentAtMs: 1000, calledAtMs: 1000, nowMs: 1030, redisNowMs: 1030 },
      1030,
    ],
    ["Redis's clock 200 ms ahead", { sentAtMs: 1000, calledAtMs: 1000, nowMs: 1000, redisNowMs: 1200 }, 1200],
    [
      "Redis's clock 50 ms behind, after a 10 ms wait",
      { sentAtMs: 990, calledAtMs: 1000, nowMs: 1010, redisNowMs: 960 },
      950,
    ],
  ])("%s", (_, t, base) => {
    expect(admissionDeadline(t)).toBe(base + ADMIT_FRESH_MS);
  });
});

describe("soldOutAnswer", () => {
  it.each<[Prior, ReturnType<typeof soldOutAnswer>]>([
    ["new", { outcome: "sold_out" }],
    ["key_reused", { outcome: "key_reused" }],
    // A retry whose first answer was lost may hold a reservation: it goes through admission.
    ["known", null],
  ])("a %s request → %j", (prior, answer) => {
    expect(soldOutAnswer(prior)).toEqual(answer);
  });
});

describe("afterAdmission", () => {
  const first = { retried: false, loaded: false };
  it.each<[string, Admission["outcome"], { retried: boolean; loaded: boolean }, AdmissionStep]>([
    ["admitted: the answer", "admitted", first, "answer"],
    ["duplicate: the answer", "duplicate", first, "answer"],
    ["stale at once: the clock offset was off, admit again", "stale", first, "admit-again"],
    ["stale again after the retry: 503", "stale", { retried: true, loaded: false }, "answer"],
    ["stale right after loading the sale: 503", "stale", { retried: false, loaded: true }, "answer"],
    ["missing: load the sale from MySQL", "missing", first, "load-sale"],
    ["missing after a stale retry: load the sale", "missing", { retried: true, loaded: false }, "load-sale"],
    ["missing once loaded: the answer (404)", "missing", { retried: false, loaded: true }, "answer"],
    ["limit_reached: maybe its own order, Redis's record lost", "limit_reached", first, "check-own-order"],
    ["limit_reached after loading: still look", "limit_reached", { retried: true, loaded: true }, "check-own-order"],
    ["sold_out: the answer", "sold_out", first, "answer"],
    ["not_started: the answer", "not_started", first, "answer"],
    ["ended: the answer", "ended", first, "answer"],
    ["key_reused: the answer", "key_reused", first, "answer"],
  ])("%s", (_, outcome, tried, step) => {
    expect(afterAdmission(outcome, tried)).toBe(step);
  });
});

describe("whenRedisLacksSale", () => {
  const now = Date.parse("2026-11-29T10:00:00.000Z");
  const endingIn = (ms: number) => ({ endsAt: new Date(now + ms) });
  it.each([
    ["no such sale in MySQL", null, "not_found"],
    ["a sale that ended: MySQL alone answers", endingIn(-60_000), "mysql-only"],
    ["a sale ending this very ms (the window is half-open)", endingIn(0), "mysql-only"],
    ["a running sale: load it into Redis", endingIn(1), "load"],
  ] as const)("%s → %s", (_, sale, kind) => {
    const next = whenRedisLacksSale(sale, now);
    expect(next.kind).toBe(kind);
    if (next.kind === "load") expect(next.sale).toBe(sale);
  });
});
