import os from "node:os";
import { closedRun, type LoadPlan } from "../load/closed";
import type { LoadUser } from "../load/fixtures";
import { openRun } from "../load/open";
import type { LoadTarget } from "../load/target";
import { profileApi } from "./api-profile";
import { profileCpu } from "./cpu-profile";
import type { InvariantCheck, LoadRun, ScenarioResult } from "./results";

/** Run settings shared by every scenario. */
export interface RunSettings {
  connections: number;
  durationSeconds: number;
  /** The open-model arrival rate as a share of the closed run's throughput. */
  openShare: number;
}

/** Tracks the load generator's own CPU time over every run: its share of the machine. */
export class GeneratorCpu {
  private cpuMicros = 0;
  private wallMs = 0;

  /** Run `fn`, adding this process's CPU time and the wall time it took. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    const cpu = process.cpuUsage();
    const started = Date.now();
    try {
      return await fn();
    } finally {
      const used = process.cpuUsage(cpu);
      this.cpuMicros += used.user + used.system;
      this.wallMs += Date.now() - started;
    }
  }

  /** CPU time / (wall time × cores). */
  share(): number {
    return this.wallMs === 0 ? 0 : this.cpuMicros / 1000 / (this.wallMs * os.cpus().length);
  }
}

/** What the ceilings and scenarios share. */
export interface BenchContext {
  target: LoadTarget;
  users: LoadUser[];
  settings: RunSettings;
  cpu: GeneratorCpu;
  log: (message: string) => void;
  /** --profile: sample api-1 with V8's profiler during each scenario's closed run. */
  profileApi?: boolean;
  /** With --profile: the file the next closed run's whole profile goes to. */
  profileFile?: string;
}

/** Run `fn` with the generator's CPU tracked and every component's CPU share recorded on the run. */
async function profiled(b: BenchContext, fn: () => Promise<LoadRun>): Promise<LoadRun> {
  const { result, cpu } = await profileCpu(b.target, () => b.cpu.track(fn));
  return { ...result, cpuShare: cpu };
}

/** A closed run for the settings' duration, or of `amount` requests; with --profile, api-1 sampled. */
export async function closed(b: BenchContext, plan: LoadPlan, amount?: number): Promise<LoadRun> {
  const s = b.settings;
  const run = () =>
    profiled(b, () =>
      closedRun(plan, { connections: s.connections, durationSeconds: amount ? 120 : s.durationSeconds, amount }),
    );
  if (!b.profileApi) return run();
  const { result, profile } = await profileApi(b.target, "api-1", run, b.profileFile);
  return { ...result, apiProfile: profile };
}

/** The open model's arrival rate: `openShare` of the closed run's throughput, in steps of 10/s. */
export const openRate = (s: RunSettings, closedRps: number) =>
  Math.max(10, Math.round((closedRps * s.openShare) / 10) * 10);

/** An open run at `openRate`. */
export function open(b: BenchContext, plan: LoadPlan, closedRps: number): Promise<LoadRun> {
  const s = b.settings;
  const rate = openRate(s, closedRps);
  return profiled(b, () => openRun(plan, { rate, durationSeconds: s.durationSeconds, connections: s.connections }));
}

/** One run of a write scenario: its figures, the drain after it and the invariants checked then. */
export interface WriteRun {
  run: LoadRun;
  drainMs: number;
  drained: number;
  invariants: InvariantCheck[];
}

/** A write scenario's result from its closed and open runs: the drain is the closed run's, invariants are both. */
export function writeScenario(
  s: Pick<ScenarioResult, "id" | "title" | "path" | "ceiling">,
  closedPart: WriteRun,
  openPart: WriteRun,
): Omit<ScenarioResult, "ratioToCeiling"> {
  const prefixed = (model: string, checks: InvariantCheck[]) =>
    checks.map((c) => ({ ...c, name: `${model}: ${c.name}` }));
  return {
    ...s,
    closed: closedPart.run,
    open: openPart.run,
    drainMs: closedPart.drainMs,
    drained: closedPart.drained,
    invariants: [...prefixed("closed", closedPart.invariants), ...prefixed("open", openPart.invariants)],
  };
}
