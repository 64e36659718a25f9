import fs from "node:fs";
import path from "node:path";
import { hostPort, localAddresses, parseTopology, withPortOffset, type Topology } from "../../infra/topology";
import { startStack, type RunningStack } from "../../scripts/stack/stack";
import { readState } from "../../scripts/stack/state";
import { eventually } from "../stack/clients";
import { repoRoot } from "../stack/test-stack";

// The autoscaling drill, on a stack of its own (the shared test stack runs no autoscaler): load
// pushes the API past the scale-out threshold → a replica is added (nginx upstream, traffic, Prometheus);
// with Prometheus frozen it holds; after the load it scales back in.
const OFFSET = 7000;
const topology: Topology = withPortOffset(
  parseTopology({
    api: { replicas: 2 },
    workers: { orders: { processes: 0, concurrency: 1 }, redPacketGrabs: { processes: 0, concurrency: 1 } },
    // Low thresholds and a short cooldown so a modest load on this 2-core machine drives a drill.
    autoscaling: {
      enabled: true,
      minReplicas: 2,
      maxReplicas: 4,
      cooldownSeconds: 5,
      scaleOutCpuPercent: 10,
      scaleInCpuPercent: 5,
      scaleOutP99Ms: 60_000,
    },
    monitoring: { scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 1 },
  }),
  OFFSET,
);
const a = localAddresses(topology);
const root = path.join(repoRoot, ".floodgate", `autoscaling-drill-${OFFSET}`);
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack(topology, {
    root,
    repoRoot,
    fresh: true,
    progress: (m) => process.stdout.write(`  [drill] ${m}\n`),
  });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(root, { recursive: true, force: true });
}, 120_000);

const prom = async (q: string) => {
  const res = await fetch(`http://${hostPort(a.prometheus)}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return Number(body.data.result[0]?.value[1] ?? NaN);
};
const scalerMetric = async (pattern: RegExp) => {
  const text = await (await fetch(`http://${hostPort(a.autoscaler!)}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? NaN);
};
const upstream = () => fs.readFileSync(path.join(root, "nginx", "nginx.conf"), "utf8");

function load(concurrency: number): () => Promise<number> {
  let on = true;
  let sent = 0;
  const url = `http://${hostPort(a.nginx)}/api/v1/health`;
  const workers = Array.from({ length: concurrency }, async () => {
    while (on) {
      await fetch(url)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      sent++;
    }
  });
  return async () => {
    on = false;
    await Promise.all(workers);
    return sent;
  };
}

it("adds a replica under load, holds while Prometheus is unreachable, and scales back in after", async () => {
  const third = `${a.nginx.host}:${topology.api.basePort + 2}`;
  expect(upstream()).not.toContain(third);

  const stop = load(24);
  const startedMs = Date.now();
  try {
    await eventually(
      async () => ((await scalerMetric(/^floodgate_autoscaler_running_replicas (\d+)/m)) >= 3 ? true : undefined),
      120_000,
      1000,
    );
    process.stdout.write(
      `  autoscaling: scale-out to 3 replicas ${((Date.now() - startedMs) / 1000).toFixed(1)} s after the load began\n`,
    );
    expect(upstream()).toContain(third); // nginx now sends it traffic …
    expect(readState(path.join(root, "stack.json"))!.processes.map((p) => p.name)).toContain("api-3");
    await eventually(async () => ((await prom('count(up{job="api"} == 1)')) === 3 ? true : undefined), 30_000, 1000); // … and Prometheus scrapes it
    const served = await eventually(
      async () => {
        const text = await (await fetch(`http://${third}/metrics`)).text();
        const n = Number(
          /floodgate_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/health"[^}]*\} (\d+)/.exec(
            text,
          )?.[1] ?? 0,
        );
        return n > 0 ? n : undefined;
      },
      30_000,
      1000,
    );
    expect(served).toBeGreaterThan(0);

    // Prometheus frozen (SIGSTOP: it answers nothing) while the load and the scale-out signal go on: hold.
    const prometheusPid = stack.supervisor.processes.get("prometheus")!.pid;
    const before = await scalerMetric(/^floodgate_autoscaler_running_replicas (\d+)/m);
    process.kill(prometheusPid, "SIGSTOP");
    try {
      await eventually(
        async () =>
          (await scalerMetric(
            /floodgate_autoscaler_decisions_total\{action="hold",reason="prometheus_unreachable"\} (\d+)/,
          )) >= 5
            ? true
            : undefined,
        30_000,
        1000,
      );
      expect(await scalerMetric(/^floodgate_autoscaler_running_replicas (\d+)/m)).toBe(before);
    } finally {
      process.kill(prometheusPid, "SIGCONT");
    }
  } finally {
    process.stdout.write(`  autoscaling: ${await stop()} requests of load\n`);
  }

  const idleMs = Date.now();
  await eventually(
    async () => ((await scalerMetric(/^floodgate_autoscaler_running_replicas (\d+)/m)) === 2 ? true : undefined),
    150_000,
    1000,
  );
  process.stdout.write(
    `  autoscaling: back to 2 replicas ${((Date.now() - idleMs) / 1000).toFixed(1)} s after the load stopped\n`,
  );
  expect(upstream()).not.toContain(third);
  // The state file `npm run stack -- status` and the runbooks read follows the replicas too.
  expect(readState(path.join(root, "stack.json"))!.processes.map((p) => p.name)).not.toContain("api-3");
}, 400_000);
