import type { Logger } from "pino";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { decide, type Decision, type Direction } from "./decide";
import { signalsOf, WebhookSchema } from "./webhook";

/** What changes the number of API replicas: local processes, Docker containers. */
export interface Actuator {
  running(): Promise<number>;
  scaleTo(replicas: number): Promise<void>;
}

/** Bounds, pacing and the thresholds the ApiScaleOut / ApiScaleIn rules compare with. */
export interface AutoscalerSettings {
  min: number;
  max: number;
  cooldownSeconds: number;
  scaleOutCpuPercent: number;
  scaleInCpuPercent: number;
  scaleOutP99Ms: number;
  prometheusUrl: string;
}

/**
 * How long a firing signal counts without Alertmanager repeating it (ms). Its autoscaler route
 * repeats every 1 m (infra/render/alertmanager.ts), so 2.5 m of silence means Alertmanager is down
 * or cannot reach us: hold rather than act on a stale alert.
 */
export const SIGNAL_TTL_MS = 150_000;

/**
 * The autoscaler: Alertmanager's webhook sets the scale-out / scale-in signal (resolved clears it);
 * every tick confirms it against the alerts Prometheus's rules have firing, decides one step (see decide) and asks the
 * actuator for it. The thresholds are exported as metrics so the alert rules use this deployment's values.
 */
export class Autoscaler {
  readonly registry = new Registry();
  /** When Alertmanager last reported each direction firing (ms), or null once resolved. */
  private readonly firingNoticeMs: Record<Direction, number | null> = { out: null, in: null };
  private lastChangeMs: number | null = null;
  private busy = false;
  private readonly desired = new Gauge({
    name: "floodgate_autoscaler_desired_replicas",
    help: "API replicas the autoscaler wants",
    registers: [this.registry],
  });
  private readonly runningGauge = new Gauge({
    name: "floodgate_autoscaler_running_replicas",
    help: "API replicas running",
    registers: [this.registry],
  });
  private readonly decisions = new Counter({
    name: "floodgate_autoscaler_decisions_total",
    help: "Autoscaler decisions by action and reason",
    labelNames: ["action", "reason"] as const,
    registers: [this.registry],
  });

  constructor(
    readonly settings: AutoscalerSettings,
    private readonly actuator: Actuator,
    private readonly log: Logger,
    private readonly now = () => Date.now(),
  ) {
    collectDefaultMetrics({ register: this.registry });
    const threshold = new Gauge({
      name: "floodgate_autoscaler_threshold",
      help: "The autoscaling thresholds this deployment uses (ApiScaleOut / ApiScaleIn compare with them)",
      labelNames: ["signal"] as const,
      registers: [this.registry],
    });
    threshold.set({ signal: "scale_out_cpu_percent" }, settings.scaleOutCpuPercent);
    threshold.set({ signal: "scale_in_cpu_percent" }, settings.scaleInCpuPercent);
    threshold.set({ signal: "scale_out_p99_ms" }, settings.scaleOutP99Ms);
  }

  /** The signals as Alertmanager last reported them. */
  get signal(): Record<Direction, boolean> {
    return { out: this.firingNoticeMs.out !== null, in: this.firingNoticeMs.in !== null };
  }

  /** Take one Alertmanager notification; throws a ZodError on a payload that is not one. */
  onWebhook(body: unknown): void {
    const signals = signalsOf(WebhookSchema.parse(body));
    for (const dir of ["out", "in"] as const)
      if (signals[dir] !== undefined) this.firingNoticeMs[dir] = signals[dir] ? this.now() : null;
    this.log.info({ signal: this.signal }, "autoscale notification");
  }

  /**
   * The autoscale alerts Prometheus's rules have firing now, or null when it does not answer. Read
   * from /api/v1/alerts (the rules' state in memory) rather than the ALERTS series, whose last sample
   * outlives a Prometheus crash for the query lookback (5 m) with no stale marker.
   */
  private async firingInPrometheus(): Promise<Set<Direction> | null> {
    try {
      const res = await fetch(`${this.settings.prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(1000) });
      if (!res.ok) return null;
      const body = (await res.json()) as {
        data?: { alerts?: Array<{ state: string; labels: Record<string, string> }> };
      };
      if (!body.data?.alerts) return null;
      const firing = body.data.alerts.filter((a) => a.state === "firing").map((a) => a.labels.autoscale);
      return new Set(firing.filter((d): d is Direction => d === "out" || d === "in"));
    } catch {
      return null;
    }
  }

  /** Decide and act once; overlapping ticks are skipped (a scale step can take seconds). */
  async tick(): Promise<Decision | null> {
    return this.exclusive(async () => {
      const running = await this.actuator.running();
      const s = this.settings;
      const notified = (["out", "in"] as const).filter((d) => this.firingNoticeMs[d] !== null);
      const decision = decide({
        running,
        min: s.min,
        max: s.max,
        cooldownMs: s.cooldownSeconds * 1000,
        lastChangeMs: this.lastChangeMs,
        nowMs: this.now(),
        notified: new Set(notified),
        fresh: new Set(notified.filter((d) => this.now() - this.firingNoticeMs[d]! < SIGNAL_TTL_MS)),
        firing: await this.firingInPrometheus(),
      });
      await this.apply(running, decision);
      return decision;
    });
  }

  /** On-call's override (the scale-api runbook): go to `replicas` now; the cooldown starts again. */
  async scaleTo(replicas: number): Promise<{ running: number } | null> {
    if (!Number.isInteger(replicas) || replicas < this.settings.min || replicas > this.settings.max)
      throw new RangeError(
        `replicas = ${replicas}: must be an integer in [${this.settings.min}, ${this.settings.max}]`,
      );
    return this.exclusive(async () => {
      const running = await this.actuator.running();
      const action = replicas > running ? "out" : replicas < running ? "in" : "hold";
      await this.apply(running, { action, desired: replicas, reason: "manual" });
      return { running: await this.actuator.running() };
    });
  }

  /** The current count and bounds (GET /replicas). */
  async status() {
    const { min, max, cooldownSeconds } = this.settings;
    return { running: await this.actuator.running(), min, max, cooldownSeconds, signal: this.signal };
  }

  private async apply(running: number, decision: Decision): Promise<void> {
    this.runningGauge.set(running);
    this.desired.set(decision.desired);
    this.decisions.inc({ action: decision.action, reason: decision.reason });
    if (decision.action === "hold") return;
    this.log.info({ running, ...decision }, "scaling the API");
    await this.actuator.scaleTo(decision.desired);
    this.lastChangeMs = this.now();
    this.runningGauge.set(decision.desired);
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T | null> {
    if (this.busy) return null;
    this.busy = true;
    try {
      return await fn();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, "autoscaler step failed");
      return null;
    } finally {
      this.busy = false;
    }
  }
}
