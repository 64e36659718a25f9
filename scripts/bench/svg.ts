/** The SVG chart: closed-model throughput of every ceiling and scenario, and p50/p99 latency per scenario. */
import type { BenchReport } from "./results";
import { formatMs, formatRps } from "./format";
import { reportDate } from "./markdown";

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
    const { p50, p99 } = s.closed.latencyMs;
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
