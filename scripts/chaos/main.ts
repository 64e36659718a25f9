// npm run chaos — flash-sale and red-packet storms while a component is killed or frozen.
// Starts (or with --reuse, reuses) a chaos stack of real components on its own ports, runs each
// scenario (a storm, one fault, the recovery on-call would do, then every invariant), prints a
// scenarios × invariants table and exits 1 on any violation. Blast radius: .floodgate/chaos only.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseTopology, withPortOffset } from "../../infra/topology";
import { startLocalStack } from "../../infra/targets/local-stack";
import { allHeld, chaosScenarios, DEFAULT_SIZE, runScenario, type ChaosResult } from "./scenarios";
import { chaosTable } from "./table";

const repoRoot = path.resolve(__dirname, "..", "..");

/** The chaos stack sits 3000 above the default ports, beside `npm start`, the test stacks and the bench. */
const CHAOS_PORT_OFFSET = 3000;

/** The chaos stack's folder: .floodgate/chaos, or chaos-<offset> on other ports (two runs never share one). */
const chaosRoot = (offset: number) =>
  path.join(repoRoot, ".floodgate", offset === CHAOS_PORT_OFFSET ? "chaos" : `chaos-${offset}`);

const HELP = (ids: string[]) => `usage: npm run chaos -- [options]

Runs each scenario: a storm, one fault injected into it, the recovery on-call would do, then the
invariants — exactly stock orders, nobody over the limit, every 202 confirmed or failed with a
reason, no order without a 202, one order per key, reconciliation drift zero, queues drained; for red packets, parts
and cents exact, every grab told persisted and credited, every part grabbed.

  --only IDS     comma-separated scenarios (default: all):
                 ${ids.join("\n                 ")}
  --units N      units (sale stock, packet parts) per storm (default ${DEFAULT_SIZE.units})
  --clients N    buyers or grabbers per storm (default ${DEFAULT_SIZE.clients})
  --port-offset N  ports N above the defaults (default ${CHAOS_PORT_OFFSET}; another offset uses .floodgate/chaos-N)
  --reuse        reuse a chaos stack already running in its folder
  -h, --help     this text

Exit status: 0 when every invariant held, 1 on any violation, 2 on a usage error.`;

async function main(): Promise<number> {
  const scenarios = chaosScenarios(repoRoot);
  const ids = scenarios.map((s) => s.id);
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        only: { type: "string" },
        units: { type: "string", default: String(DEFAULT_SIZE.units) },
        clients: { type: "string", default: String(DEFAULT_SIZE.clients) },
        reuse: { type: "boolean", default: false },
        "port-offset": { type: "string", default: String(CHAOS_PORT_OFFSET) },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP(ids)}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP(ids)}\n`);
    return 0;
  }
  const only = values.only?.split(",").map((s) => s.trim());
  const units = Number(values.units);
  const clients = Number(values.clients);
  const offset = Number(values["port-offset"]);
  const problems = [
    ...(only ?? []).filter((id) => !ids.includes(id)).map((id) => `--only: unknown scenario ${id}`),
    ...(Number.isInteger(units) && units >= 1 && units <= 10_000 ? [] : [`--units ${values.units}: expected 1…10000`]),
    ...(Number.isInteger(clients) && clients > units && clients <= 20_000
      ? []
      : [`--clients ${values.clients}: expected more than --units, at most 20000`]),
    ...(Number.isInteger(offset) && offset >= 0 && offset <= 20_000
      ? []
      : [`--port-offset ${offset}: expected 0…20000`]),
  ];
  if (problems.length) {
    process.stderr.write(`${problems.join("\n")}\n\n${HELP(ids)}\n`);
    return 2;
  }
  const log = (m: string) => process.stdout.write(`[chaos] ${m}\n`);
  const topology = withPortOffset(parseTopology({ autoscaling: { enabled: false } }), offset);
  const root = chaosRoot(offset);
  const stack = await startLocalStack(topology, {
    root,
    repoRoot,
    reuse: values.reuse,
    progress: (m) => log(`stack: ${m}`),
  });
  try {
    const results: ChaosResult[] = [];
    for (const s of scenarios.filter((x) => !only || only.includes(x.id))) {
      log(`${s.id}: ${s.storm} storm × ${s.fault.title}`);
      const r = await runScenario(stack.target, s, { ...DEFAULT_SIZE, units, clients });
      const held = !r.error && r.checks.every((c) => c.ok);
      log(
        `${s.id}: ${r.error ? `could not finish: ${r.error}` : held ? "held" : "VIOLATED"} (${r.seconds.toFixed(0)} s)`,
      );
      if (!held) {
        // The next run starts a fresh stack over these logs: keep them for the post-mortem.
        const stamp = new Date().toISOString().replace(/[:.]/g, "-");
        const kept = path.join(repoRoot, ".floodgate", "chaos-failures", `${stamp}-${s.id.replace("/", "-")}`);
        fs.cpSync(path.join(root, "logs"), kept, { recursive: true });
        log(`${s.id}: the stack's logs up to now are kept in ${path.relative(repoRoot, kept)}`);
      }
      results.push(r);
    }
    process.stdout.write(`\n${chaosTable(results)}\n`);
    return allHeld(results) ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`chaos failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
