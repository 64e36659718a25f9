import type { Ceiling, LoadRun, ScenarioResult } from "./results";
import { targetsFor, withRatios } from "./targets";

function buildRun(overrides: Partial<LoadRun> = {}): LoadRun {
  return {
    model: "closed",
    connections: 200,
    durationSeconds: 10,
    requests: 10_000,
    rps: 1000,
    latencyMs: { p50: 5, p90: 10, p99: 20, p999: 40, max: 60 },
    errors: 0,
    answers: { "202": 10_000 },
    ...overrides,
  };
}

const ceilings: Ceiling[] = [
  { id: "koa-bare", title: "bare", path: "GET /live", rps: 4000 },
  { id: "nginx-static", title: "static", path: "GET /static/x", rps: 20_000 },
  { id: "naive-baseline", title: "naive", path: "POST /naive", rps: 200 },
];

const scenario = (id: string, rps: number, more: Partial<ScenarioResult> = {}) =>
  withRatios({ id, title: id, path: "/", ceiling: "koa-bare", closed: buildRun({ rps }), ...more }, ceilings);

describe("withRatios", () => {
  it("divides by the scenario's ceiling and, for purchases only, by the naive baseline", () => {
    expect(scenario("pure-admission", 1000)).toMatchObject({ ratioToCeiling: 0.25, ratioToBaseline: 5 });
    expect(scenario("cached-profile", 2000).ratioToBaseline).toBeUndefined();
    expect(
      withRatios({ ...scenario("static-catalog", 18_000), ceiling: "nginx-static" }, ceilings).ratioToCeiling,
    ).toBe(0.9);
  });

  it("divides by the ceiling measured right after the scenario when there is one", () => {
    expect(scenario("sold-out", 1000, { ceilingRps: 5000 }).ratioToCeiling).toBe(0.2);
  });
});

describe("targetsFor", () => {
  it.each([
    ["pure-admission", 1000, [true, true, true]],
    ["pure-admission", 999, [false, true, false]],
    ["sold-out", 2400, [true]],
    ["sold-out", 2399, [false]],
    ["red-packet-grabs", 1200, [true]],
    ["cached-profile", 2799, [false]],
    ["orders-listing", 100, []],
  ])("judges %s at %d req/s against the issue's thresholds", (id, rps, met) => {
    expect(targetsFor(scenario(id, rps)).map((t) => t.met)).toEqual(met);
  });

  it("fails the latency target above 50 ms p99", () => {
    const s = scenario("pure-admission", 2000, {
      closed: buildRun({ rps: 2000, latencyMs: { ...buildRun().latencyMs, p99: 51 } }),
    });
    expect(targetsFor(s).find((t) => t.text.startsWith("p99"))).toMatchObject({ met: false, measured: "p99 51 ms" });
  });

  it("counts the drain only for a storm of at least 10,000 orders drained within 5 s", () => {
    const drain = (drained: number, drainMs: number) =>
      targetsFor(scenario("flash-sale-storm", 1000, { drained, drainMs })).find((t) => t.text.includes("drain"))?.met;
    expect(drain(10_000, 5000)).toBe(true);
    expect(drain(10_000, 5001)).toBe(false);
    expect(drain(2000, 10)).toBe(false);
  });

  it("adds an invariants target that names what failed", () => {
    const s = scenario("orders-listing", 100, {
      invariants: [
        { name: "no oversell", ok: true, detail: "" },
        { name: "queues drained", ok: false, detail: "3 ready" },
      ],
    });
    expect(targetsFor(s)).toEqual([{ text: "every invariant holds", met: false, measured: "failed: queues drained" }]);
  });
});
