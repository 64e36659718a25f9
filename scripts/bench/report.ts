/** Renders a BenchReport: a terminal summary, a markdown report, an SVG chart, and writes them to a folder. */
import fs from "node:fs/promises";
import path from "node:path";
import { formatTable } from "../stack/table";
import type { BenchReport, Ceiling, InvariantCheck, LoadRun, ScenarioResult, TargetCheck } from "./results";

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

const SCENARIO_HEADER = [
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

function invariantsCell(checks: InvariantCheck[] | undefined): string {
  if (!checks || checks.length === 0) return "–";
  const failed = checks.filter((c) => !c.ok).map((c) => c.name);
  return failed.length === 0 ? "ok" : `FAILED: ${failed.join(", ")}`;
}

function scenarioCells(s: ScenarioResult): string[] {
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
function allTargets(report: BenchReport): { scenario: string; target: TargetCheck }[] {
  return report.scenarios.flatMap((s) => (s.targets ?? []).map((target) => ({ scenario: s.id, target })));
}

// ---------------------------------------------------------------- terminal summary

/** A plain-text summary for the terminal: ceilings, scenarios, generator CPU share, targets. */
export function summaryTable(report: BenchReport): string {
  const ceilings = formatTable(
    ["ceiling", "path", "rps"],
    report.ceilings.map((c) => [c.id, c.path, formatRps(c.rps)]),
  );
  const scenarios = formatTable(SCENARIO_HEADER, report.scenarios.map(scenarioCells));
  const cpu = `load generator CPU share: ${formatPercent(report.loadGeneratorCpuShare)}`;
  const targets = allTargets(report).map(
    ({ scenario, target: t }) => `${(t.met ? "met" : "NOT met").padEnd(7)}  ${scenario}: ${t.text} — ${t.measured}`,
  );
  return [ceilings, "", scenarios, "", cpu, ...targets].join("\n");
}

// ---------------------------------------------------------------- markdown

/** Make text safe inside a markdown table cell: a `|` would split the cell, a newline the row. */
export function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(" | ")} |`;
  return [line(header), `|${header.map(() => " --- ").join("|")}|`, ...rows.map(line)].join("\n");
}

function reportDate(iso: string): string {
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
    formatRps(c.rps),
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

function mdRun(label: string, run: LoadRun): string[] {
  const rate = run.targetRate === undefined ? "" : `, target ${formatRps(run.targetRate)}/s`;
  const answers = Object.entries(run.answers).map(([status, n]) => [status, n.toLocaleString("en-US")]);
  const cpu = cpuLine(run);
  return [
    `**${label} run** (${run.model}, ${run.connections} connections${rate}, ${run.durationSeconds} s): ` +
      `${run.requests.toLocaleString("en-US")} requests, ${formatRps(run.rps)} rps, ${run.errors} errors`,
    "",
    ...(cpu ? [`CPU (share of the machine): ${cpu}`, ""] : []),
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
    `\`${s.path}\` — ${formatPercent(s.ratioToCeiling)} of ${s.ceiling}${baseline}`,
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

// ---------------------------------------------------------------- svg

const WIDTH = 900;
const LABEL_W = 250; // room for ~36 characters of label at 12 px
const BAR_X = LABEL_W + 10;
const BAR_MAX_W = WIDTH - BAR_X - 110; // leaves room for the value label after the longest bar
const RPS_ROW = 22;
const LAT_ROW = 28;

/** Escape text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function shorten(text: string, max = 36): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Coordinates to a tenth of a pixel keep the file small and diffable. */
function px(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${px(x)}" y="${px(y)}"${attrs ? ` ${attrs}` : ""}>${escapeXml(content)}</text>`;
}

function rect(cls: string, x: number, y: number, w: number, h: number, tip: string): string {
  const size = `x="${px(x)}" y="${px(y)}" width="${px(Math.max(w, 1))}" height="${px(h)}"`;
  return `<rect class="${cls}" ${size}><title>${escapeXml(tip)}</title></rect>`;
}

interface RpsRow {
  label: string;
  rps: number;
  cls: string;
  tip: string;
}

function throughputPanel(report: BenchReport, top: number): { svg: string[]; height: number } {
  const rows: RpsRow[] = [
    ...report.ceilings.map((c) => ({ label: `${c.id} (ceiling)`, rps: c.rps, cls: "ceiling", tip: c.title })),
    ...report.scenarios.map((s) => ({ label: s.title, rps: s.closed.rps, cls: "scenario", tip: `${s.id}: ${s.path}` })),
  ];
  const max = Math.max(1, ...rows.map((r) => r.rps));
  const svg = [text(10, top + 14, "Closed-model throughput (requests/s, common scale)", 'class="heading"')];
  rows.forEach((r, i) => {
    const y = top + 24 + i * RPS_ROW;
    const w = (Math.max(r.rps, 0) / max) * BAR_MAX_W;
    svg.push(text(LABEL_W, y + 12, shorten(r.label), 'text-anchor="end"'));
    svg.push(rect(`bar-rps ${r.cls}`, BAR_X, y, w, 16, r.tip));
    svg.push(text(BAR_X + Math.max(w, 1) + 5, y + 12, formatRps(r.rps)));
  });
  return { svg, height: 24 + rows.length * RPS_ROW };
}

/** A log scale over whole decades, so p50 and p99 stay readable when they differ a hundredfold. */
function logScale(values: number[]): { x: (ms: number) => number; ticks: number[] } {
  const positive = values.filter((v) => v > 0);
  const lo = Math.floor(Math.log10(positive.length > 0 ? Math.min(...positive) : 1));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(positive.length > 0 ? Math.max(...positive) : 10)));
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  const x = (ms: number) => BAR_X + ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo)) * BAR_MAX_W;
  return { x, ticks };
}

function latencyAxis(x: (ms: number) => number, ticks: number[], top: number, bottom: number): string[] {
  return ticks.flatMap((t) => {
    const at = px(x(t));
    const label = t < 1 ? t.toFixed(-Math.round(Math.log10(t))) : t.toLocaleString("en-US");
    return [
      `<line class="grid" x1="${at}" y1="${top}" x2="${at}" y2="${bottom}"/>`,
      text(Number(at), bottom + 14, `${label} ms`, 'text-anchor="middle"'),
    ];
  });
}

function latencyPanel(report: BenchReport, top: number): { svg: string[]; height: number } {
  const lat = report.scenarios.map((s) => s.closed.latencyMs);
  const { x, ticks } = logScale(lat.flatMap((l) => [l.p50, l.p99]));
  const rowsTop = top + 40;
  const rowsBottom = rowsTop + report.scenarios.length * LAT_ROW;
  const svg = [
    text(10, top + 14, "Closed-model latency per scenario (ms, log scale)", 'class="heading"'),
    `<rect class="bar-p50" x="${BAR_X}" y="${top + 22}" width="10" height="8"/>`,
    text(BAR_X + 14, top + 30, "p50"),
    `<rect class="bar-p99" x="${BAR_X + 50}" y="${top + 22}" width="10" height="8"/>`,
    text(BAR_X + 64, top + 30, "p99"),
    ...latencyAxis(x, ticks, rowsTop - 4, rowsBottom),
  ];
  report.scenarios.forEach((s, i) => {
    const y = rowsTop + i * LAT_ROW;
    const { p50, p99 } = lat[i];
    svg.push(text(LABEL_W, y + 14, shorten(s.title), 'text-anchor="end"'));
    svg.push(rect("bar-p50", BAR_X, y + 2, x(p50) - BAR_X, 9, `${s.id} p50 ${formatMs(p50)} ms`));
    svg.push(text(x(p50) + 5, y + 10, formatMs(p50), 'class="small"'));
    svg.push(rect("bar-p99", BAR_X, y + 12, x(p99) - BAR_X, 9, `${s.id} p99 ${formatMs(p99)} ms`));
    svg.push(text(x(p99) + 5, y + 20, formatMs(p99), 'class="small"'));
  });
  return { svg, height: rowsBottom - top + 24 };
}

const SVG_STYLE = [
  "text{font-family:sans-serif;font-size:12px;fill:#222}",
  ".heading{font-size:14px;font-weight:bold}",
  ".small{font-size:10px}",
  ".ceiling{fill:#9aa5b1}",
  ".scenario{fill:#2b6cb0}",
  ".bar-p50{fill:#68d391}",
  ".bar-p99{fill:#dd6b20}",
  ".grid{stroke:#ddd;stroke-width:1}",
].join("");

/** A self-contained SVG chart: closed-model rps of every ceiling and scenario, then p50/p99 per scenario. */
export function renderSvg(report: BenchReport): string {
  const title = text(10, 22, `floodgate benchmark — ${reportDate(report.startedAt)}`, 'class="heading"');
  const rps = throughputPanel(report, 36);
  const latency = latencyPanel(report, 36 + rps.height + 24);
  const height = 36 + rps.height + 24 + latency.height + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<style>${SVG_STYLE}</style>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#fff"/>`,
    title,
    ...rps.svg,
    ...latency.svg,
    "</svg>",
  ].join("\n");
}

// ---------------------------------------------------------------- files

/** Write report.md, report.json and chart.svg into `dir` (created if missing) and return their paths. */
export async function writeReport(
  report: BenchReport,
  dir: string,
): Promise<{ markdown: string; json: string; svg: string }> {
  await fs.mkdir(dir, { recursive: true });
  const paths = {
    markdown: path.join(dir, "report.md"),
    json: path.join(dir, "report.json"),
    svg: path.join(dir, "chart.svg"),
  };
  await Promise.all([
    fs.writeFile(paths.markdown, renderMarkdown(report)),
    fs.writeFile(paths.json, JSON.stringify(report, null, 2) + "\n"),
    fs.writeFile(paths.svg, renderSvg(report) + "\n"),
  ]);
  return paths;
}
