import http from "node:http";
import type { Logger } from "pino";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { decide, type Decision } from "./decide";
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
 * The autoscaler: Alertmanager's webhook sets the scale-out / scale-in signal (resolved clears it);
 * every tick decides one step (see decide) and asks the actuator for it. The thresholds are
 * exported as metrics so the alert rules use this deployment's values.
 */
export class Autoscaler {
  readonly registry = new Registry();
  private readonly signal = { out: false, in: false };
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

  /** Take one Alertmanager notification; throws a ZodError on a payload that is not one. */
  onWebhook(body: unknown): void {
    const signals = signalsOf(WebhookSchema.parse(body));
    if (signals.out !== undefined) this.signal.out = signals.out;
    if (signals.in !== undefined) this.signal.in = signals.in;
    this.log.info({ signal: this.signal }, "autoscale notification");
  }

  private async prometheusUp(): Promise<boolean> {
    try {
      return (await fetch(`${this.settings.prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  }

  /** Decide and act once; overlapping ticks are skipped (a scale step can take seconds). */
  async tick(): Promise<Decision | null> {
    if (this.busy) return null;
    this.busy = true;
    try {
      const running = await this.actuator.running();
      const s = this.settings;
      const decision = decide({
        running,
        min: s.min,
        max: s.max,
        cooldownMs: s.cooldownSeconds * 1000,
        lastChangeMs: this.lastChangeMs,
        nowMs: this.now(),
        signal: this.signal.out ? "out" : this.signal.in ? "in" : null,
        prometheusUp: await this.prometheusUp(),
      });
      this.runningGauge.set(running);
      this.desired.set(decision.desired);
      this.decisions.inc({ action: decision.action, reason: decision.reason });
      if (decision.action !== "hold") {
        this.log.info({ running, ...decision }, "scaling the API");
        await this.actuator.scaleTo(decision.desired);
        this.lastChangeMs = this.now();
        this.runningGauge.set(decision.desired);
      }
      return decision;
    } catch (err) {
      this.log.error({ err: (err as Error).message }, "autoscaler tick failed");
      return null;
    } finally {
      this.busy = false;
    }
  }

  /** Serve POST /alerts (the webhook), GET /health and GET /metrics. */
  server(): http.Server {
    return http.createServer((req, res) => {
      const reply = (status: number, body: unknown, type = "application/json") => {
        res.writeHead(status, { "content-type": type });
        res.end(typeof body === "string" ? body : JSON.stringify(body));
      };
      if (req.method === "POST" && req.url === "/alerts") {
        let raw = "";
        req.on("data", (c: Buffer) => (raw += c.toString()));
        req.on("end", () => {
          try {
            this.onWebhook(JSON.parse(raw));
            reply(200, { status: "accepted" });
          } catch (err) {
            reply(400, { error: "invalid_notification", message: (err as Error).message.slice(0, 500) });
          }
        });
      } else if (req.method === "GET" && req.url === "/health") reply(200, { status: "ok", signal: this.signal });
      else if (req.method === "GET" && req.url === "/metrics")
        void this.registry.metrics().then((text) => reply(200, text, this.registry.contentType));
      else reply(404, { error: "not_found" });
    });
  }
}
