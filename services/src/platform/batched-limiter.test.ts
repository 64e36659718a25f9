import { batchAnswer, msUntilWindowEnds, windowOf } from "./batched-limiter";

describe("windowOf", () => {
  it.each([
    [0, 1000, 0],
    [999, 1000, 0],
    [1000, 1000, 1],
    [1_700_000_000_500, 60_000, 28_333_333],
  ])("%i ms in windows of %i ms → window %i", (nowMs, windowMs, window) => {
    expect(windowOf(nowMs, windowMs)).toBe(window);
  });
});

describe("msUntilWindowEnds", () => {
  it.each([
    ["at the window's start", 5, 5000, 1000],
    ["midway", 5, 5400, 600],
    ["its last ms", 5, 5999, 1],
    ["already ended (the answer waited for Redis): at least 1", 5, 6200, 1],
  ])("%s", (_, window, nowMs, ms) => {
    expect(msUntilWindowEnds(window, 1000, nowMs)).toBe(ms);
  });
});

describe("batchAnswer", () => {
  it.each([
    ["the first of a batch granted everything", 0, 3, 0],
    ["the last one within the grant", 2, 3, 0],
    ["the first beyond it: refused until the next window", 3, 3, 700],
    ["a batch granted nothing", 0, 0, 700],
  ])("%s", (_, position, granted, answer) => {
    expect(batchAnswer(position, granted, 700)).toBe(answer);
  });
});
