import autocannon from "autocannon";
import type { Latency, LoadRun } from "../bench/results";

/** One request of a load run: built per request, so each can carry its own user and Idempotency-Key. */
export interface RequestSpec {
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What a run sends and how it reads the answers. */
export interface LoadPlan {
  /** Base URL (nginx or a replica). */
  url: string;
  /** Request number `i` (0, 1, 2… across every connection). */
  request: (i: number) => RequestSpec;
  /** The answer's key in `LoadRun.answers`: the status, plus the error id of a JSON error body. */
  classify?: (status: number, body: string) => string;
  /** Whether an answer (by key) is one the scenario expects; anything else counts as an error. */
  expected: (key: string) => boolean;
  /** Called with every answer (write scenarios collect their 202s here). */
  onAnswer?: (i: number, status: number, body: string) => void;
}

/** "202", or "409 sold_out" for a JSON error body. */
export function answerKey(status: number, body: string): string {
  if (status < 400 || !body.startsWith("{")) return String(status);
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    return typeof error === "string" ? `${status} ${error}` : String(status);
  } catch {
    return String(status);
  }
}

/** Count answers by key and sum the unexpected ones. */
export function tally(plan: LoadPlan) {
  const answers: Record<string, number> = {};
  return {
    answers,
    record(i: number, status: number, body: string) {
      const key = (plan.classify ?? answerKey)(status, body);
      answers[key] = (answers[key] ?? 0) + 1;
      plan.onAnswer?.(i, status, body);
    },
    unexpected: () => Object.entries(answers).reduce((n, [key, count]) => n + (plan.expected(key) ? 0 : count), 0),
  };
}

type Context = { i?: number };

/**
 * Send again, once each, the requests a run left without an answer (cut off when its time ran out,
 * or a socket error), so write scenarios learn every outcome the way a client would: purchases carry
 * their Idempotency-Key, so a retry answers what the first attempt did. Not counted in the run's figures.
 */
export async function settleUnanswered(plan: LoadPlan, unanswered: Map<number, RequestSpec>): Promise<void> {
  if (!plan.onAnswer) return;
  for (const [i, spec] of unanswered) {
    const res = await fetch(`${plan.url}${spec.path}`, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      signal: AbortSignal.timeout(30_000),
    });
    plan.onAnswer(i, res.status, await res.text());
  }
}

/**
 * Closed model with autocannon: `connections` clients, each sending its next request when the last
 * is answered, for `durationSeconds` or until `amount` requests — the path's maximum throughput.
 */
export async function closedRun(
  plan: LoadPlan,
  opts: { connections: number; durationSeconds?: number; amount?: number },
): Promise<LoadRun> {
  let next = 0;
  const counts = tally(plan);
  const unanswered = new Map<number, RequestSpec>();
  const result = await autocannon({
    url: plan.url,
    connections: opts.connections,
    duration: opts.durationSeconds ?? 10,
    amount: opts.amount,
    timeout: 30,
    requests: [
      {
        setupRequest(req, context: Context) {
          const i = next++;
          context.i = i;
          const spec = plan.request(i);
          unanswered.set(i, spec);
          return { ...req, method: spec.method, path: spec.path, headers: spec.headers ?? {}, body: spec.body };
        },
        onResponse(status: number, body: string, context: Context) {
          unanswered.delete(context.i ?? -1);
          counts.record(context.i ?? -1, status, body);
        },
      },
    ],
  });
  await settleUnanswered(plan, unanswered);
  const requests = Object.values(counts.answers).reduce((a, b) => a + b, 0);
  return {
    model: "closed",
    connections: opts.connections,
    durationSeconds: result.duration,
    requests,
    rps: requests / result.duration,
    latencyMs: pick(result.latency),
    errors: counts.unexpected() + result.errors + result.timeouts,
    answers: counts.answers,
  };
}

function pick(l: autocannon.Histogram): Latency {
  return { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p99_9, max: l.max };
}
