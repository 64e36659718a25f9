/** The markdown report: machine, ceilings, scenarios, targets, then each scenario's runs and invariants. */
import type { BenchReport, Ceiling, LoadRun, ScenarioResult } from "./results";
import {
  allTargets,
  formatMs,
  formatPercent,
  formatRps,
  formatTimes,
  invariantsCell,
  SCENARIO_HEADER,
  scenarioCells,
} from "./format";

// ---------------------------------------------------------------- markdown

/** Make text safe inside a markdown table cell: a `|` would split the cell, a newline the row. */
export function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(" | ")} |`;
  return [line(header), `|${header.map(() => " --- ").join("|")}|`, ...rows.map(line)].join("\n");
}

export function reportDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function mdHeader(report: BenchReport): string[] {
  const m = report.machine;
  return [
    `# Benchmark — ${reportDate(report.startedAt)}`,
    "",
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, node ${m.node}, ${m.os}`,
    "",
    `Run: ${report.startedAt} → ${report.finishedAt}`,
    "",
    `Load generator CPU share: ${formatPercent(report.loadGeneratorCpuShare)} of the machine`,
    "",
    `Invariants: ${report.invariantsHeld ? "all held" : "**some FAILED**"}`,
    "",
    "![throughput and latency](chart.svg)",
  ];
}

function mdCeilings(ceilings: Ceiling[]): string[] {
  const rows = ceilings.map((c) => [
    c.id,
    c.title,
    c.path,
    c.samples ? `${formatRps(c.rps)} (runs: ${c.samples.map(formatRps).join(", ")})` : formatRps(c.rps),
    invariantsCell(c.invariants),
    c.run ? cpuLine(c.run) : "",
  ]);
  return ["## Ceilings", "", mdTable(["ceiling", "title", "path", "rps", "invariants", "CPU during the run"], rows)];
}

function mdTargets(report: BenchReport): string[] {
  const items = allTargets(report).map(
    ({ scenario, target: t }) => `- ${t.met ? "✅" : "❌"} **${scenario}**: ${t.text} — ${t.measured}`,
  );
  return ["## Targets", "", ...(items.length > 0 ? items : ["_No targets._"])];
}

/** "api 48%, redis 12%, …": each component's share of the machine's CPU during a run. */
export function cpuLine(run: LoadRun): string {
  return Object.entries(run.cpuShare ?? {})
    .map(([component, share]) => `${component} ${formatPercent(share)}`)
    .join(", ");
}

/** "api-1 busy 93%: ioredis 21%, (garbage collector) 9%, …": where a profiled API process spent a run. */
export function apiProfileLine(run: LoadRun): string {
  const p = run.apiProfile;
  if (!p) return "";
  const groups = Object.entries(p.top).map(([group, share]) => `${group} ${formatPercent(share)}`);
  return `${p.process} busy ${formatPercent(p.busyShare)}: ${groups.join(", ")}`;
}

function mdRun(label: string, run: LoadRun): string[] {
  const rate = run.targetRate === undefined ? "" : `, target ${formatRps(run.targetRate)}/s`;
  const answers = Object.entries(run.answers).map(([status, n]) => [status, n.toLocaleString("en-US")]);
  const cpu = cpuLine(run);
  return [
    `**${label} run** (${run.model}, ${run.connections} connections${rate}, ${run.durationSeconds.toFixed(1)} s): ` +
      `${run.requests.toLocaleString("en-US")} requests, ${formatRps(run.rps)} rps, ${run.errors} errors`,
    "",
    ...(cpu ? [`CPU (share of the machine): ${cpu}`, ""] : []),
    ...(run.apiProfile
      ? [`API time (self time by package or file, share of busy samples): ${apiProfileLine(run)}`, ""]
      : []),
    answers.length > 0 ? mdTable(["answer", "count"], answers) : "_No answers recorded._",
  ];
}

function mdScenario(s: ScenarioResult): string[] {
  const runs: [string, LoadRun][] = s.open
    ? [
        ["closed", s.closed],
        ["open", s.open],
      ]
    : [["closed", s.closed]];
  const latency = runs.map(([label, r]) => {
    const l = r.latencyMs;
    return [label, ...[l.p50, l.p90, l.p99, l.p999, l.max].map(formatMs)];
  });
  const drain =
    s.drainMs === undefined
      ? []
      : [
          `Drain: ${formatMs(s.drainMs)} ms for ${s.drained === undefined ? "?" : s.drained.toLocaleString("en-US")} accepted`,
          "",
        ];
  const baseline = s.ratioToBaseline === undefined ? "" : `, ${formatTimes(s.ratioToBaseline)} the naive baseline`;
  const invariants = (s.invariants ?? []).map((c) => [c.name, c.ok ? "✅" : "❌", c.detail]);
  return [
    `### ${s.id} — ${s.title}`,
    "",
    `\`${s.path}\` — ${formatPercent(s.ratioToCeiling)} of ${s.ceiling}${s.ceilingRps ? ` (${formatRps(s.ceilingRps)} req/s, measured right after)` : ""}${baseline}`,
    "",
    ...runs.flatMap(([label, r]) => [...mdRun(label, r), ""]),
    mdTable(["run", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"], latency),
    "",
    ...drain,
    invariants.length > 0 ? mdTable(["invariant", "held", "detail"], invariants) : "_No invariants checked._",
  ];
}

/** The markdown report: machine, ceilings, scenarios, targets, then each scenario's runs and invariants. */
export function renderMarkdown(report: BenchReport): string {
  const sections = [
    mdHeader(report),
    mdCeilings(report.ceilings),
    ["## Scenarios", "", mdTable(SCENARIO_HEADER, report.scenarios.map(scenarioCells))],
    mdTargets(report),
    ["## Scenario details"],
    ...report.scenarios.map(mdScenario),
  ];
  return sections.map((lines) => lines.join("\n")).join("\n\n") + "\n";
}
