import { decide, type ScaleState } from "./decide";

const base: ScaleState = {
  running: 3,
  min: 2,
  max: 5,
  cooldownMs: 60_000,
  lastChangeMs: null,
  nowMs: 1_000_000,
  notified: new Set(),
  fresh: new Set(),
  firing: new Set(),
};
const dirs = (...d: Array<"out" | "in">) => new Set(d);
/** Alertmanager reports (and recently repeated) these, and Prometheus has them firing. */
const signalled = (...d: Array<"out" | "in">): Partial<ScaleState> => ({
  notified: dirs(...d),
  fresh: dirs(...d),
  firing: dirs(...d),
});
const out = signalled("out");

describe("decide", () => {
  it.each<[string, Partial<ScaleState>, string, number, string]>([
    ["no alert", {}, "hold", 3, "no_signal"],
    ["scale-out alert", out, "out", 4, "alert"],
    ["scale-in alert", signalled("in"), "in", 2, "alert"],
    ["at the maximum", { ...out, running: 5 }, "hold", 5, "at_max"],
    ["at the minimum", { ...signalled("in"), running: 2 }, "hold", 2, "at_min"],
    ["inside the cooldown", { ...out, lastChangeMs: 1_000_000 - 59_999 }, "hold", 3, "cooldown"],
    ["after the cooldown", { ...out, lastChangeMs: 1_000_000 - 60_000 }, "out", 4, "alert"],
    ["Prometheus unreachable", { ...out, firing: null }, "hold", 3, "prometheus_unreachable"],
    ["Alertmanager silent for too long", { ...out, fresh: dirs() }, "hold", 3, "alertmanager_silent"],
    ["an alert Prometheus no longer has firing", { ...out, firing: dirs("in") }, "hold", 3, "unconfirmed"],
    [
      "a stale scale-out beside a confirmed scale-in",
      { ...signalled("out", "in"), firing: dirs("in") },
      "in",
      2,
      "alert",
    ],
    ["both confirmed", signalled("out", "in"), "out", 4, "alert"],
    ["below the minimum, even blind", { running: 1, firing: null }, "out", 2, "below_min"],
    ["above the maximum, even in cooldown", { running: 7, lastChangeMs: 1_000_000 }, "in", 6, "above_max"],
  ])("%s", (_name, change, action, desired, reason) => {
    expect(decide({ ...base, ...change })).toEqual({ action, desired, reason });
  });
});
