/** Number formats and the table cells the terminal summary and the markdown report share. */
import type { BenchReport, InvariantCheck, LoadRun, ScenarioResult, TargetCheck } from "./results";

// ---------------------------------------------------------------- numbers

/** Requests/s as an integer with thousands separators, e.g. "12,345". */
export function formatRps(rps: number): string {
  return Math.round(rps).toLocaleString("en-US");
}

/** Milliseconds: one decimal under 10 ms (where a tenth still matters), integer above. */
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : Math.round(ms).toLocaleString("en-US");
}

/** A ratio as a whole percentage, e.g. 0.312 → "31%". */
export function formatPercent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

/** A speed-up factor, e.g. 6.24 → "6.2×"; "–" when there is nothing to compare with. */
export function formatTimes(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return "–";
  return ratio < 10 ? `${ratio.toFixed(1)}×` : `${Math.round(ratio)}×`;
}

// ---------------------------------------------------------------- cells shared by the text and markdown tables

export const SCENARIO_HEADER = [
  "scenario",
  "closed rps",
  "vs ceiling",
  "vs baseline",
  "p50 ms",
  "p99 ms",
  "p99.9 ms",
  "open: rate → rps, p99",
  "errors",
  "drain ms",
  "invariants",
];

function openCell(open: LoadRun | undefined): string {
  if (!open) return "–";
  const rate = open.targetRate === undefined ? "?" : formatRps(open.targetRate);
  return `${rate} → ${formatRps(open.rps)}, p99 ${formatMs(open.latencyMs.p99)} ms`;
}

export function invariantsCell(checks: InvariantCheck[] | undefined): string {
  if (!checks || checks.length === 0) return "–";
  const failed = checks.filter((c) => !c.ok).map((c) => c.name);
  return failed.length === 0 ? "ok" : `FAILED: ${failed.join(", ")}`;
}

export function scenarioCells(s: ScenarioResult): string[] {
  const { p50, p99, p999 } = s.closed.latencyMs;
  return [
    s.id,
    formatRps(s.closed.rps),
    `${formatPercent(s.ratioToCeiling)} ${s.ceiling}`,
    formatTimes(s.ratioToBaseline),
    formatMs(p50),
    formatMs(p99),
    formatMs(p999),
    openCell(s.open),
    // An error in either run counts against the scenario; the per-run split is in the markdown.
    String(s.closed.errors + (s.open?.errors ?? 0)),
    s.drainMs === undefined ? "–" : formatMs(s.drainMs),
    invariantsCell(s.invariants),
  ];
}

/** Every target of every scenario, tagged with its scenario id. */
export function allTargets(report: BenchReport): { scenario: string; target: TargetCheck }[] {
  return report.scenarios.flatMap((s) => (s.targets ?? []).map((target) => ({ scenario: s.id, target })));
}
