// npm run bench — how close each path of floodgate comes to what this machine can do.
// Starts (or with --reuse, reuses) a bench stack of real components on its own ports, measures this
// machine's ceilings and every scenario, checks the invariants after each write scenario, and writes
// a markdown/JSON/SVG report under bench-results/. Blast radius: its own stack in .floodgate/bench only.
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startLocalStack } from "../../infra/targets/local-stack";
import { insertUsers } from "../load/fixtures";
import { koaBareCeiling, naiveBaselineCeiling, nginxStaticCeiling, redisLuaCeiling } from "./ceilings";
import { flashSaleStorm, pureAdmission, soldOut } from "./flash-sale-scenarios";
import { GeneratorCpu, type BenchContext } from "./measure";
import { cachedProfile, ordersListing, staticCatalog } from "./read-scenarios";
import { redPacketGrabs } from "./red-packet-scenario";
import { apiProfileLine, cpuLine, summaryTable, writeReport } from "./report";
import type { BenchReport, Ceiling, ScenarioResult } from "./results";
import { targetsFor, withRatios } from "./targets";
import { benchTopology } from "./topology";

const repoRoot = path.resolve(__dirname, "..", "..");

const HELP = `usage: npm run bench -- [options]

Measures floodgate on this machine against its ceilings and a naive baseline (each scenario's ratio
against its ceiling measured again right after it), and checks the invariants after every write
scenario. Writes bench-results/<time>/{report.md,report.json,chart.svg}.

  --duration S        seconds per closed and per open run (default 10)
  --connections N     concurrent connections of every run (default 200)
  --open-share F      open-model arrival rate as a share of the closed run's req/s (default 0.6)
  --storm-stock N     units of the flash-sale storm (default 10000; it sends twice as many purchases)
  --only IDS          comma-separated scenarios: ${"flash-sale-storm,pure-admission,sold-out,red-packet-grabs,cached-profile,orders-listing,static-catalog"}
  --reuse             reuse a bench stack already running in .floodgate/bench (e.g. one left by --keep)
  --keep              keep the bench stack running in the foreground afterwards, until Ctrl-C
  --profile           sample api-1 with V8's CPU profiler during each scenario's closed run, report
                      where its time went by package and file, and keep each whole profile as
                      bench-results/<time>/api-1-<scenario>.cpuprofile (sampling costs the process a
                      few percent of its throughput; the ceilings are measured without it)
  --out DIR           where reports go (default bench-results)
  -h, --help          this text

Exit status: 0 when every invariant held, 1 when one did not (or a scenario could not finish), 2 on a
usage error.`;

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "10" },
      connections: { type: "string", default: "200" },
      "open-share": { type: "string", default: "0.6" },
      "storm-stock": { type: "string", default: "10000" },
      only: { type: "string" },
      reuse: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      out: { type: "string", default: "bench-results" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const number = (name: string, value: string, min: number, max: number) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} ${value}: expected ${min}…${max}`);
    return n;
  };
  return {
    help: values.help,
    durationSeconds: number("duration", values.duration, 1, 600),
    connections: Math.round(number("connections", values.connections, 1, 10_000)),
    openShare: number("open-share", values["open-share"], 0.01, 2),
    stormStock: Math.round(number("storm-stock", values["storm-stock"], 1, 1_000_000)),
    only: values.only?.split(",").map((s) => s.trim()),
    reuse: values.reuse,
    keep: values.keep,
    profile: values.profile,
    out: path.resolve(values.out),
  };
}

type Scenario = (b: BenchContext, ceilings: Ceiling[]) => Promise<Omit<ScenarioResult, "ratioToCeiling">>;

/** Every scenario, in the order they run (orders-listing reads what the purchases wrote). */
function scenarios(stormStock: number): Record<string, Scenario> {
  return {
    "flash-sale-storm": (b) => flashSaleStorm(b, stormStock),
    "pure-admission": (b) => pureAdmission(b),
    "sold-out": (b) => soldOut(b),
    "red-packet-grabs": (b, c) => redPacketGrabs(b, c.find((x) => x.id === "koa-bare")!.rps),
    "cached-profile": (b) => cachedProfile(b),
    "orders-listing": (b) => ordersListing(b),
    "static-catalog": (b) => staticCatalog(b),
  };
}

async function main(): Promise<number> {
  let o: ReturnType<typeof options>;
  try {
    o = options();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const all = scenarios(o.stormStock);
  const unknown = (o.only ?? []).filter((id) => !(id in all));
  if (unknown.length) {
    process.stderr.write(`--only: unknown scenario ${unknown.join(", ")}\n\n${HELP}\n`);
    return 2;
  }
  const log = (m: string) => process.stdout.write(`[bench] ${m}\n`);
  const startedAt = new Date().toISOString();
  const reportDir = path.join(o.out, startedAt.replace(/[:.]/g, "-"));
  const stack = await startLocalStack(benchTopology(), {
    root: path.join(repoRoot, ".floodgate", "bench"),
    repoRoot,
    reuse: o.reuse,
    progress: (m) => log(`stack: ${m}`),
  });
  try {
    const cpu = new GeneratorCpu();
    const settings = { connections: o.connections, durationSeconds: o.durationSeconds, openShare: o.openShare };
    const users = await insertUsers(stack.target, Math.max(2 * o.stormStock, 20_000), "bench");
    const b: BenchContext = { target: stack.target, users, settings, cpu, log, profileApi: o.profile };
    // Ceilings are measured unprofiled, before each scenario and right after it.
    const plain: BenchContext = { ...b, profileApi: false };
    const ceilings: Ceiling[] = [];
    for (const measure of [nginxStaticCeiling, koaBareCeiling, redisLuaCeiling, naiveBaselineCeiling]) {
      const c = await measure(plain);
      log(`ceiling ${c.id}: ${Math.round(c.rps)} req/s`);
      ceilings.push(c);
    }
    const raw: Array<Omit<ScenarioResult, "ratioToCeiling">> = [];
    const failed: string[] = [];
    for (const [id, run] of Object.entries(all)) {
      if (o.only && !o.only.includes(id)) continue;
      log(`scenario ${id}`);
      if (o.profile) b.profileFile = path.join(reportDir, `api-1-${id}.cpuprofile`);
      try {
        const result = await run(b, ceilings);
        raw.push({ ...result, ceilingRps: await measureAgain(plain, ceilings, result.ceiling) });
      } catch (err) {
        // One broken scenario must not cost the others' figures: report it and fail the run.
        log(`scenario ${id} could not finish: ${(err as Error).message}`);
        failed.push(id);
      }
    }
    const results = raw.map((r) => withRatios(r, ceilings)).map((s) => ({ ...s, targets: targetsFor(s) }));
    const invariantsHeld =
      failed.length === 0 && [...ceilings, ...results].every((r) => (r.invariants ?? []).every((i) => i.ok));
    const report: BenchReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        os: `${os.type()} ${os.release()}`,
      },
      loadGeneratorCpuShare: cpu.share(),
      ceilings,
      scenarios: results,
      invariantsHeld,
    };
    const files = await writeReport(report, reportDir);
    const runs = [...ceilings.map((c) => [c.id, c.run] as const), ...results.map((r) => [r.id, r.closed] as const)];
    const cpuLines = runs.map(([id, run]) => `  ${id.padEnd(18)} ${run ? cpuLine(run) : "–"}`);
    const profileLines = results
      .filter((r) => r.closed.apiProfile)
      .map((r) => `  ${r.id.padEnd(18)} ${apiProfileLine(r.closed)}`);
    const profiles = profileLines.length
      ? `\n\nwhere api-1's time went (closed runs, self time, share of its busy samples):\n${profileLines.join("\n")}`
      : "";
    process.stdout.write(
      `\n${summaryTable(report)}\n\nwhere the CPU went (closed runs, share of the machine):\n${cpuLines.join("\n")}${profiles}\n\nreport: ${files.markdown}\n        ${files.json}\n        ${files.svg}\n`,
    );
    if (failed.length) process.stdout.write(`\nscenarios that could not finish: ${failed.join(", ")}\n`);
    return invariantsHeld ? 0 : 1;
  } finally {
    if (o.keep && !stack.reused) await untilSignalled(log);
    await stack.stop();
  }
}

/**
 * Measure a scenario's HTTP ceiling again right after it, as the denominator of its ratio (the
 * machine's speed drifts within a run). Every measurement is kept as a sample of the ceiling, whose
 * headline figure is the highest: what the machine can do, which a transient must not understate.
 */
async function measureAgain(b: BenchContext, ceilings: Ceiling[], id: Ceiling["id"]): Promise<number | undefined> {
  const measure = { "nginx-static": nginxStaticCeiling, "koa-bare": koaBareCeiling }[id as string];
  if (!measure) return undefined;
  const again = await measure(b);
  const ceiling = ceilings.find((c) => c.id === id)!;
  ceiling.samples = [...(ceiling.samples ?? [ceiling.rps]), again.rps];
  if (again.rps > ceiling.rps) Object.assign(ceiling, { rps: again.rps, run: again.run });
  b.log(`  ${id} right after: ${Math.round(again.rps)} req/s`);
  return again.rps;
}

/** --keep: the stack's owner is this process, so it stays in the foreground until Ctrl-C or SIGTERM. */
function untilSignalled(log: (m: string) => void): Promise<void> {
  log("the bench stack keeps running: another terminal may run npm run bench -- --reuse; Ctrl-C stops it");
  return new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
