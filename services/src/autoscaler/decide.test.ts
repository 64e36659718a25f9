import { decide, type ScaleState } from "./decide";

const base: ScaleState = {
  running: 3,
  min: 2,
  max: 5,
  cooldownMs: 60_000,
  lastChangeMs: null,
  nowMs: 1_000_000,
  signal: null,
  prometheusUp: true,
};

describe("decide", () => {
  it.each<[string, Partial<ScaleState>, string, number, string]>([
    ["no alert", {}, "hold", 3, "no_signal"],
    ["scale-out alert", { signal: "out" }, "out", 4, "alert"],
    ["scale-in alert", { signal: "in" }, "in", 2, "alert"],
    ["at the maximum", { signal: "out", running: 5 }, "hold", 5, "at_max"],
    ["at the minimum", { signal: "in", running: 2 }, "hold", 2, "at_min"],
    ["inside the cooldown", { signal: "out", lastChangeMs: 1_000_000 - 59_999 }, "hold", 3, "cooldown"],
    ["after the cooldown", { signal: "out", lastChangeMs: 1_000_000 - 60_000 }, "out", 4, "alert"],
    ["Prometheus unreachable", { signal: "out", prometheusUp: false }, "hold", 3, "prometheus_unreachable"],
    ["below the minimum, even blind", { running: 1, prometheusUp: false }, "out", 2, "below_min"],
    ["above the maximum, even in cooldown", { running: 7, lastChangeMs: 1_000_000 }, "in", 6, "above_max"],
  ])("%s", (_name, change, action, desired, reason) => {
    expect(decide({ ...base, ...change })).toEqual({ action, desired, reason });
  });
});
