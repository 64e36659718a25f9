import { retryDelayMs } from "./deliveries";

describe("retryDelayMs", () => {
  it.each([
    [0, 250],
    [1, 500],
    [2, 1000],
    [4, 4000],
    [5, 5000],
    [20, 5000],
  ])("after %i deliveries: %i ms", (deliveries, ms) => {
    expect(retryDelayMs(deliveries)).toBe(ms);
  });
});
