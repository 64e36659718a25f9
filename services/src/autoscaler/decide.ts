/** Which way an autoscale alert asks to go. */
export type Direction = "out" | "in";

/** What the autoscaler knows when it decides. */
export interface ScaleState {
  running: number;
  min: number;
  max: number;
  cooldownMs: number;
  /** When the replica count last changed (ms), or null. */
  lastChangeMs: number | null;
  nowMs: number;
  /** The autoscale alerts Alertmanager last reported firing. */
  notified: ReadonlySet<Direction>;
  /** Those it re-sent recently: a silent Alertmanager is not trusted. */
  fresh: ReadonlySet<Direction>;
  /**
   * The autoscale alerts Prometheus's rules have firing right now, or null when it did not answer:
   * without it no signal can be confirmed.
   */
  firing: ReadonlySet<Direction> | null;
}

/** A decision: the replica count to run, and why. */
export interface Decision {
  action: "out" | "in" | "hold";
  desired: number;
  reason: string;
}

/**
 * One step at a time within [min, max], never sooner than the cooldown after the last change, and
 * only on a signal Alertmanager still repeats and Prometheus's rules still have firing (a signal
 * Prometheus does not confirm is ignored: after a restart Alertmanager can hold a stale one); nothing while
 * Prometheus is unreachable. Outside [min, max] (a changed config) it steps back inside first,
 * cooldown or not.
 */
export function decide(s: ScaleState): Decision {
  const hold = (reason: string): Decision => ({ action: "hold", desired: s.running, reason });
  if (s.running < s.min) return { action: "out", desired: s.running + 1, reason: "below_min" };
  if (s.running > s.max) return { action: "in", desired: s.running - 1, reason: "above_max" };
  if (s.firing === null) return hold("prometheus_unreachable");
  if (s.notified.size === 0) return hold("no_signal");
  const live = [...s.notified].filter((d) => s.fresh.has(d));
  if (live.length === 0) return hold("alertmanager_silent");
  const confirmed = live.filter((d) => s.firing?.has(d));
  if (confirmed.length === 0) return hold("unconfirmed");
  // Both at once (thresholds that overlap) is resolved toward capacity.
  const signal: Direction = confirmed.includes("out") ? "out" : "in";
  if (s.lastChangeMs !== null && s.nowMs - s.lastChangeMs < s.cooldownMs) return hold("cooldown");
  if (signal === "out")
    return s.running >= s.max ? hold("at_max") : { action: "out", desired: s.running + 1, reason: "alert" };
  return s.running <= s.min ? hold("at_min") : { action: "in", desired: s.running - 1, reason: "alert" };
}
