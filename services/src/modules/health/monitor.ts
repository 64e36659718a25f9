import { Gauge } from "prom-client";
import type { Platform } from "../../platform/platform";
import { checkDependencies, type DependencyReport, type HealthDeps } from "./service";

// Probes run in the background and every caller reads the last report: a readiness probe must
// answer within its own timeout (1 s on Kubernetes) even while a frozen dependency takes the full
// probe timeout, and anonymous callers of the public endpoint must not multiply dependency load.
const PROBE_INTERVAL_MS = 1000;

// The process's monitor: a scrape of /metrics starts its probes if no health call has yet.
let refreshOnScrape: (() => Promise<unknown>) | null = null;

/** 1 when this process reaches the dependency, 0 when not (from the background probes). */
export const dependencyUp = new Gauge({
  name: "floodgate_dependency_up",
  help: "Whether this process reaches the dependency (1) or not (0), from its health probes",
  labelNames: ["dependency"] as const,
  async collect() {
    await refreshOnScrape?.().catch(() => undefined);
  },
});
/** How long the dependency took to answer its health probe. */
export const dependencyLatency = new Gauge({
  name: "floodgate_dependency_probe_seconds",
  help: "Duration of the last health probe of each dependency",
  labelNames: ["dependency"] as const,
});

/** Probes every dependency once a second (started by the first caller) and keeps the last report. */
export class HealthMonitor {
  private last: DependencyReport | null = null;
  private first: Promise<DependencyReport | null> | null = null;
  private probing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HealthDeps) {
    refreshOnScrape = () => this.report();
  }

  /**
   * The latest report; the first call waits for the first round of probes. Null while there is none
   * yet (that round failed as a whole): readiness() counts it as reaching nothing.
   */
  async report(): Promise<DependencyReport | null> {
    if (this.last) return this.last;
    if (!this.first) {
      this.first = this.probe().then(() => this.last);
      this.timer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS).unref();
    }
    return this.first;
  }

  /** Stop probing. */
  stop(): void {
    clearInterval(this.timer);
  }

  private async probe(): Promise<void> {
    if (this.probing) return; // a slow round (a frozen dependency) is never overlapped by the next
    this.probing = true;
    try {
      const report = await checkDependencies(this.deps).catch(() => null);
      if (!report) return;
      for (const [name, check] of Object.entries(report.checks)) {
        dependencyUp.set({ dependency: name }, check.status === "up" ? 1 : 0);
        dependencyLatency.set({ dependency: name }, check.latencyMs / 1000);
      }
      this.last = report;
    } finally {
      this.probing = false;
    }
  }
}

const monitors = new WeakMap<Platform, HealthMonitor>();

/** The one HealthMonitor of a platform (the public route and the internal port share it). */
export function monitorFor(p: Platform): HealthMonitor {
  let monitor = monitors.get(p);
  if (!monitor) {
    monitor = new HealthMonitor({ instance: p.config.INSTANCE_ID, db: p.db, redis: p.redis, mq: p.mq });
    monitors.set(p, monitor);
  }
  return monitor;
}
