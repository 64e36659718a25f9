import type { Ceiling, ScenarioResult, TargetCheck } from "./results";

/** Scenarios whose closed throughput is compared with the naive baseline (the same purchase, done naively). */
const AGAINST_BASELINE = new Set(["flash-sale-storm", "pure-admission", "sold-out"]);

const pct = (ratio: number) => `${Math.round(ratio * 100)}%`;

/** Add each scenario's ratios to its ceiling and (purchases) to the naive baseline. */
export function withRatios(s: Omit<ScenarioResult, "ratioToCeiling">, ceilings: Ceiling[]): ScenarioResult {
  const ceiling = ceilings.find((c) => c.id === s.ceiling);
  const baseline = ceilings.find((c) => c.id === "naive-baseline");
  return {
    ...s,
    ratioToCeiling: (s.ceilingRps ?? ceiling?.rps ?? 0) > 0 ? s.closed.rps / (s.ceilingRps ?? ceiling!.rps) : 0,
    ratioToBaseline:
      AGAINST_BASELINE.has(s.id) && baseline && baseline.rps > 0 ? s.closed.rps / baseline.rps : undefined,
  };
}

function share(s: ScenarioResult, min: number): TargetCheck {
  return {
    text: `at least ${pct(min)} of the ${s.ceiling} ceiling`,
    met: s.ratioToCeiling >= min,
    measured: `${pct(s.ratioToCeiling)} (${Math.round(s.closed.rps)} req/s)`,
  };
}

/** The targets for one scenario, judged on its figures (reported, never asserted in tests). */
export function targetsFor(s: ScenarioResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (s.id === "pure-admission") {
    checks.push(share(s, 0.25));
    checks.push({
      text: `p99 ≤ 50 ms at ${s.closed.connections} connections`,
      met: s.closed.latencyMs.p99 <= 50,
      measured: `p99 ${s.closed.latencyMs.p99} ms`,
    });
    checks.push({
      text: "at least 5× the naive baseline",
      met: (s.ratioToBaseline ?? 0) >= 5,
      measured: s.ratioToBaseline === undefined ? "no baseline measured" : `${s.ratioToBaseline.toFixed(1)}×`,
    });
  }
  if (s.id === "sold-out") checks.push(share(s, 0.6));
  if (s.id === "red-packet-grabs") checks.push(share(s, 0.3));
  if (s.id === "cached-profile") checks.push(share(s, 0.7));
  if (s.id === "static-catalog") checks.push(share(s, 0.9));
  if (s.id === "flash-sale-storm" && s.drainMs !== undefined) {
    checks.push({
      text: "workers drain a 10,000-order storm within 5 s of its end",
      met: (s.drained ?? 0) >= 10_000 && s.drainMs <= 5000,
      measured: `${s.drained} orders drained in ${(s.drainMs / 1000).toFixed(1)} s`,
    });
  }
  if (s.invariants?.length) {
    const failed = s.invariants.filter((i) => !i.ok).map((i) => i.name);
    checks.push({
      text: "every invariant holds",
      met: failed.length === 0,
      measured: failed.length ? `failed: ${failed.join(", ")}` : `${s.invariants.length} checked`,
    });
  }
  return checks;
}
