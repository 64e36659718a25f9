import { SoldOutFlags } from "./sold-out-flags";

describe("SoldOutFlags", () => {
  const setAt = 1_000_000;
  it.each([
    ["just set", 1, 0, true],
    ["a moment before its TTL runs out", 1, 999, true],
    ["once its TTL ran out", 1, 1000, false],
    ["long after", 1, 60_000, false],
    ["another sale", 2, 0, false],
  ])("%s (sale %i, +%i ms): flagged %s", (_, saleId, afterMs, flagged) => {
    const flags = new SoldOutFlags(1000);
    flags.set(1, setAt);
    expect(flags.has(saleId, setAt + afterMs)).toBe(flagged);
  });

  it("forgets an expired flag, and a new set flags the sale again", () => {
    const flags = new SoldOutFlags(1000);
    flags.set(1, setAt);
    expect(flags.has(1, setAt + 1000)).toBe(false);
    expect(flags.has(1, setAt + 10)).toBe(false); // dropped: an older clock reading does not revive it
    flags.set(1, setAt + 2000);
    expect(flags.has(1, setAt + 2500)).toBe(true);
  });
});
