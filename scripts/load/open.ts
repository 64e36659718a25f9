import { performance } from "node:perf_hooks";
import * as hdr from "hdr-histogram-js";
import { Pool } from "undici";
import type { LoadRun } from "../bench/results";
import { settleUnanswered, tally, type LoadPlan, type RequestSpec } from "./closed";

/**
 * Open model: requests arrive at `rate`/s on a fixed schedule whatever the answers do, over a pool of
 * at most `connections`. Latency runs from each request's scheduled start, so time spent waiting
 * for a free connection counts (no coordinated omission). Written here because autocannon's
 * `overallRate` is still closed-loop (a connection waits for its answer before the next send).
 */
export async function openRun(
  plan: LoadPlan,
  opts: { rate: number; durationSeconds: number; connections: number },
): Promise<LoadRun> {
  const pool = new Pool(plan.url, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const counts = tally(plan);
  let socketErrors = 0;
  const unanswered = new Map<number, RequestSpec>();
  const total = Math.round(opts.rate * opts.durationSeconds);
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const send = (i: number, scheduledAt: number) => {
    const spec = plan.request(i);
    const job = pool
      .request({ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body, headersTimeout: 30_000 })
      .then(async (res) => {
        const body = await res.body.text();
        histogram.recordValue(Math.max(1, Math.round((performance.now() - scheduledAt) * 1000)));
        counts.record(i, res.statusCode, body);
      })
      .catch(() => {
        socketErrors++;
        unanswered.set(i, spec);
      })
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
  };
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - started) / 1000) * opts.rate) + 1);
    for (; sent < due; sent++) send(sent, started + (sent / opts.rate) * 1000);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all([...inFlight]);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  await settleUnanswered(plan, unanswered);
  const ms = (q: number) => histogram.getValueAtPercentile(q) / 1000;
  const requests = Object.values(counts.answers).reduce((a, b) => a + b, 0);
  return {
    model: "open",
    connections: opts.connections,
    targetRate: opts.rate,
    durationSeconds: seconds,
    requests,
    rps: requests / seconds,
    latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: histogram.maxValue / 1000 },
    errors: counts.unexpected() + socketErrors,
    answers: counts.answers,
  };
}
