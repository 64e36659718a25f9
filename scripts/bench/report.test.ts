import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { at } from "../../test/support/checked";
import { cpuLine, renderMarkdown, renderSvg, summaryTable, writeReport } from "./report";
import type { BenchReport, Ceiling, LoadRun, ScenarioResult } from "./results";

function buildRun(overrides: Partial<LoadRun> = {}): LoadRun {
  return {
    model: "closed",
    connections: 100,
    durationSeconds: 10,
    requests: 52000,
    rps: 5200,
    latencyMs: { p50: 4.26, p90: 9.1, p99: 18.4, p999: 41.7, max: 88 },
    errors: 0,
    answers: { "200": 52000 },
    ...overrides,
  };
}

function buildCeiling(overrides: Partial<Ceiling> = {}): Ceiling {
  return { id: "koa-bare", title: "Koa, no middleware", path: "GET /bare", rps: 16800, ...overrides };
}

function buildScenario(overrides: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    id: "read-sale",
    title: "Read a sale",
    path: "GET /api/v1/flash-sales/:id",
    ceiling: "koa-bare",
    closed: buildRun(),
    ratioToCeiling: 0.31,
    ...overrides,
  };
}

/** Two ceilings, three scenarios (one with a failing invariant and an unmet target, one without an open run). */
function buildReport(): BenchReport {
  return {
    startedAt: "2026-11-29T08:00:00.000Z",
    finishedAt: "2026-11-29T08:20:00.000Z",
    machine: { cpus: 8, cpuModel: "Test CPU", memoryGiB: 16, node: "v22.11.0", os: "linux 6.8" },
    loadGeneratorCpuShare: 0.12,
    ceilings: [
      buildCeiling({ id: "nginx-static", title: "nginx static", path: "GET /static/bench.txt (64 B)", rps: 61000 }),
      buildCeiling(),
    ],
    scenarios: [
      buildScenario({
        open: buildRun({ model: "open", targetRate: 2000, rps: 1998 }),
        targets: [{ text: "reads ≥ 25% of koa-bare", met: true, measured: "31% of koa-bare" }],
      }),
      buildScenario({
        id: "purchase",
        title: "Buy & queue",
        path: "POST /api/v1/flash-sales/:id/purchases",
        closed: buildRun({ rps: 3100, answers: { "202": 9000, "409 sold_out": 1000 } }),
        open: buildRun({ model: "open", targetRate: 1500, rps: 1400, errors: 3 }),
        ratioToCeiling: 0.18,
        ratioToBaseline: 6.24,
        drainMs: 840,
        drained: 9000,
        invariants: [
          { name: "no-oversell", ok: true, detail: "sold 1000 of 1000" },
          { name: "one-per-user", ok: false, detail: "user 42 | bought twice" },
        ],
        targets: [{ text: "p99 under 50 ms at 1500/s", met: false, measured: "p99 120 ms" }],
      }),
      buildScenario({
        id: "login",
        title: "Log in",
        path: "POST /api/v1/sessions",
        closed: buildRun({ rps: 900 }),
        ratioToCeiling: 0.05,
      }),
    ],
    invariantsHeld: false,
  };
}

describe("summaryTable", () => {
  it("lines every scenario row up under the header's column starts", () => {
    const lines = summaryTable(buildReport()).split("\n");
    const header = lines.findIndex((l) => l.startsWith("scenario"));
    // The rule under the header is dashes per column, two spaces apart: it gives every column's start.
    const starts = [...at(lines, header + 1, "the rule under the header").matchAll(/-+/g)].map((m) => m.index);
    const rows = lines.slice(header + 2, header + 5);

    expect(starts).toHaveLength(11);
    for (const row of rows) {
      for (const start of starts.slice(1)) {
        expect(row.slice(start - 2, start)).toBe("  ");
        expect(row[start]).not.toBe(" ");
      }
    }
  });

  it("names the failing invariant, the unmet target and the generator's CPU share", () => {
    const summary = summaryTable(buildReport());

    expect(summary).toContain("FAILED: one-per-user");
    expect(summary).not.toContain("FAILED: no-oversell");
    expect(summary).toMatch(/^NOT met +purchase: p99 under 50 ms at 1500\/s — p99 120 ms$/m);
    expect(summary).toMatch(/^met +read-sale:/m);
    expect(summary).toContain("load generator CPU share: 12%");
  });

  it("formats ratios, open runs and missing fields", () => {
    const summary = summaryTable(buildReport());

    expect(summary).toContain("31% koa-bare");
    expect(summary).toContain("6.2×");
    expect(summary).toContain("1,500 → 1,400, p99 18 ms");
    expect(summary.split("\n").find((l) => l.startsWith("login"))).toMatch(
      /900 +5% koa-bare +– +4\.3 +18 +42 +– +0 +– +–/,
    );
  });
});

describe("renderMarkdown", () => {
  it("has the ceilings and scenarios tables with separator rows and the chart", () => {
    const md = renderMarkdown(buildReport());

    expect(md).toMatch(/^# Benchmark — 2026-11-29 08:00 UTC$/m);
    expect(md).toContain("Machine: 8 CPUs (Test CPU), 16 GiB, node v22.11.0, linux 6.8");
    expect(md).toMatch(/^\| ceiling \| title \| path \| rps \| invariants \| CPU during the run \|\n\|( --- \|){6}$/m);
    expect(md).toMatch(/^\| scenario \| closed rps .*\n\|( --- \|){11}$/m);
    expect(md).toContain("| nginx-static | nginx static | GET /static/bench.txt (64 B) | 61,000 | – |");
    expect(md).toContain("![throughput and latency](chart.svg)");
  });

  it("escapes a | in an invariant's detail so it stays in its cell", () => {
    const md = renderMarkdown(buildReport());

    expect(md).toContain("| one-per-user | ❌ | user 42 \\| bought twice |");
  });

  it("lists targets with ✅/❌, answers by status and both runs' latency", () => {
    const md = renderMarkdown(buildReport());

    expect(md).toContain("- ❌ **purchase**: p99 under 50 ms at 1500/s — p99 120 ms");
    expect(md).toContain("- ✅ **read-sale**: reads ≥ 25% of koa-bare — 31% of koa-bare");
    expect(md).toContain("| 409 sold_out | 1,000 |");
    expect(md).toContain("| open | 4.3 | 9.1 | 18 | 42 | 88 |");
    expect(md).toContain("_No invariants checked._");
  });
});

describe("cpuLine", () => {
  it("lists each component's share of the machine, in the order measured, and nothing without a profile", () => {
    expect(cpuLine(buildRun({ cpuShare: { api: 0.484, redis: 0.12, "load generator": 0.05 } }))).toBe(
      "api 48%, redis 12%, load generator 5%",
    );
    expect(cpuLine(buildRun())).toBe("");
  });
});

describe("renderSvg", () => {
  it("is one svg element with a throughput bar per ceiling and scenario", () => {
    const svg = renderSvg(buildReport());

    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith("</svg>")).toBe(true);
    expect(svg.match(/<svg\b/g)).toHaveLength(1);
    expect(svg.match(/class="bar-rps\b/g)).toHaveLength(5);
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("escapes an & in a scenario title", () => {
    const svg = renderSvg(buildReport());

    expect(svg).toContain("Buy &amp; queue");
    expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;)/);
  });

  it("draws a p50 and a p99 bar per scenario and survives a report with no scenarios", () => {
    const svg = renderSvg(buildReport());
    const empty = renderSvg({ ...buildReport(), ceilings: [], scenarios: [] });

    expect(svg.match(/<rect class="bar-p99" [^>]*><title>/g)).toHaveLength(3);
    expect(empty).not.toContain("NaN");
    expect(empty.endsWith("</svg>")).toBe(true);
  });
});

describe("writeReport", () => {
  it("writes report.md, report.json and chart.svg, and the JSON round-trips", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "floodgate-report-"));
    try {
      const report = buildReport();
      const out = path.join(dir, "nested", "run-1");

      const paths = await writeReport(report, out);

      expect(paths).toEqual({
        markdown: path.join(out, "report.md"),
        json: path.join(out, "report.json"),
        svg: path.join(out, "chart.svg"),
      });
      expect(JSON.parse(await fs.readFile(paths.json, "utf8"))).toEqual(report);
      expect(await fs.readFile(paths.markdown, "utf8")).toContain("![throughput and latency](chart.svg)");
      expect(await fs.readFile(paths.svg, "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
