/** Renders a BenchReport: the terminal summary, and the report folder (markdown, JSON, SVG chart). */
import fs from "node:fs/promises";
import path from "node:path";
import { formatTable } from "../../infra/targets/text-table";
import { allTargets, formatPercent, SCENARIO_HEADER, scenarioCells, formatRps } from "./format";
import { renderMarkdown } from "./markdown";
import type { BenchReport } from "./results";
import { renderSvg } from "./svg";

export { apiProfileLine, cpuLine, escapeCell, renderMarkdown } from "./markdown";
export { escapeXml, renderSvg } from "./svg";
export { formatMs, formatPercent, formatRps, formatTimes } from "./format";

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
