import type { ApiProfile } from "./api-profile";
/** The benchmark's results: what `npm run bench` measures, and what its report renders. */

/** Latency percentiles of one run, in milliseconds. */
export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** One load run against one path. */
export interface LoadRun {
  /** closed: `connections` clients each send the next request when the last is answered (max throughput); open: requests arrive at `targetRate`/s whatever the answers do. */
  model: "closed" | "open";
  connections: number;
  /** Open model only: the arrival rate asked for, requests/s. */
  targetRate?: number;
  durationSeconds: number;
  requests: number;
  /** Answered requests per second. */
  rps: number;
  /** Open model: measured from each request's scheduled start, so queueing in the generator counts (no coordinated omission). */
  latencyMs: Latency;
  /** Answers the scenario did not expect (5xx, unexpected 4xx) and socket errors/timeouts. */
  errors: number;
  /** Every answer by status and error id, e.g. {"202": 9000, "409 sold_out": 1000}. */
  answers: Record<string, number>;
  /** Where the machine's CPU went during the run: each component's share of (wall time × cores). */
  cpuShare?: Record<string, number>;
  /** With --profile: where one API process spent the run, by function group. */
  apiProfile?: ApiProfile;
}

/** One invariant checked after a write scenario. */
export interface InvariantCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** A ceiling: the most this machine does on (part of) the same path. */
export interface Ceiling {
  id: "nginx-static" | "koa-bare" | "redis-lua" | "naive-baseline";
  title: string;
  /** What was measured, e.g. "GET /static/bench.txt (64 B)". */
  path: string;
  rps: number;
  /** Each measurement's req/s (first, then one right after each scenario using it); `rps` is the highest. */
  samples?: number[];
  run?: LoadRun;
  invariants?: InvariantCheck[];
}

/** A target of the issue, evaluated on the measured figures. */
export interface TargetCheck {
  text: string;
  met: boolean;
  /** The measured figure, e.g. "31% of koa-bare; p99 12 ms". */
  measured: string;
}

/** One scenario: its closed and open runs, ratios, and (write scenarios) invariants and drain time. */
export interface ScenarioResult {
  id: string;
  title: string;
  /** The request, e.g. "POST /api/v1/flash-sales/:id/purchases". */
  path: string;
  /** The ceiling the ratio is taken against. */
  ceiling: Ceiling["id"];
  closed: LoadRun;
  open?: LoadRun;
  /**
   * The ceiling measured again right after this scenario: the ratio's denominator. This machine's
   * speed drifts within a run (nginx-static measured 28.8k and 37.4k req/s in one bench), so a ratio
   * against a measurement minutes away says more about the drift than about the path.
   */
  ceilingRps?: number;
  /** closed rps / the ceiling's rps (ceilingRps when measured, else the ceiling's highest). */
  ratioToCeiling: number;
  /** closed rps / the naive baseline's rps (write scenarios). */
  ratioToBaseline?: number;
  invariants?: InvariantCheck[];
  /** Write scenarios: ms from the last accepted answer until every accepted request is persisted. */
  drainMs?: number;
  /** How many accepted requests the drain covered. */
  drained?: number;
  targets?: TargetCheck[];
}

/** The whole report. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; os: string };
  /** Load generator CPU time / (wall time × cores) over every run: how much of the machine the generator itself took. */
  loadGeneratorCpuShare: number;
  ceilings: Ceiling[];
  scenarios: ScenarioResult[];
  /** Every invariant of every scenario held. */
  invariantsHeld: boolean;
}
