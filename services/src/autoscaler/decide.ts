/** What the autoscaler knows when it decides. */
export interface ScaleState {
  running: number;
  min: number;
  max: number;
  cooldownMs: number;
  /** When the replica count last changed (ms), or null. */
  lastChangeMs: number | null;
  nowMs: number;
  /** The firing autoscale alert, if any ("out" wins over "in"). */
  signal: "out" | "in" | null;
  /** Whether Prometheus answered just now: without it the signal cannot be trusted. */
  prometheusUp: boolean;
}

/** A decision: the replica count to run, and why. */
export interface Decision {
  action: "out" | "in" | "hold";
  desired: number;
  reason: string;
}

/**
 * One step at a time within [min, max], never sooner than the cooldown after the last change, and
 * nothing at all while Prometheus is unreachable. Outside [min, max] (a changed config) it steps
 * back inside first, cooldown or not.
 */
export function decide(s: ScaleState): Decision {
  const hold = (reason: string): Decision => ({ action: "hold", desired: s.running, reason });
  if (s.running < s.min) return { action: "out", desired: s.running + 1, reason: "below_min" };
  if (s.running > s.max) return { action: "in", desired: s.running - 1, reason: "above_max" };
  if (!s.prometheusUp) return hold("prometheus_unreachable");
  if (s.signal === null) return hold("no_signal");
  if (s.lastChangeMs !== null && s.nowMs - s.lastChangeMs < s.cooldownMs) return hold("cooldown");
  if (s.signal === "out")
    return s.running >= s.max ? hold("at_max") : { action: "out", desired: s.running + 1, reason: "alert" };
  return s.running <= s.min ? hold("at_min") : { action: "in", desired: s.running - 1, reason: "alert" };
}
