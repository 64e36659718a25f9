import fc from "fast-check";
import { at } from "../../../../test/support/checked";
import { splitAmount } from "./split";

// Valid inputs: 1..10,000 parts of at least one cent each, at most 100,000,000 cents.
const validInput = fc
  .integer({ min: 1, max: 10_000 })
  .chain((count) => fc.tuple(fc.integer({ min: count, max: 100_000_000 }), fc.constant(count)));
// Any source of [0, 1), including the extremes a real generator may return.
const randomSource = fc
  .array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 50 })
  .map((values) => {
    let i = 0;
    return () => at(values, i++ % values.length, "a random value");
  });

describe("splitAmount", () => {
  it("gives exactly count parts, each at least 1 cent, summing exactly to the amount", () => {
    fc.assert(
      fc.property(validInput, randomSource, ([amount, count], random) => {
        const parts = splitAmount(amount, count, random);
        expect(parts).toHaveLength(count);
        expect(parts.every((p) => Number.isSafeInteger(p) && p >= 1)).toBe(true);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(amount);
      }),
      { numRuns: 300 },
    );
  });

  it("never gives a part above twice the mean of what remained before it (double-mean bound)", () => {
    fc.assert(
      fc.property(validInput, randomSource, ([amount, count], random) => {
        const parts = splitAmount(amount, count, random);
        let remaining = amount;
        const over = parts.slice(0, -1).filter((part, i) => {
          const bound = Math.max(1, (2 * remaining) / (count - i));
          remaining -= part;
          return part > bound;
        });
        expect(over).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it("gives one cent to everyone when the amount equals the count, whatever the random source", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), randomSource, (count, random) => {
        expect(splitAmount(count, count, random)).toEqual(new Array(count).fill(1));
      }),
    );
  });

  it("is fair on average: every turn's expected share is the mean", () => {
    const turns = new Array(5).fill(0);
    const runs = 20_000;
    for (let i = 0; i < runs; i++) splitAmount(1000, 5).forEach((part, turn) => (turns[turn] += part));
    for (const total of turns) expect(total / runs).toBeGreaterThan(190);
    for (const total of turns) expect(total / runs).toBeLessThan(210);
  });

  it.each([
    [0, 1],
    [5, 6],
    [10, 0],
    [1.5, 1],
  ])("refuses to split %p cents into %p parts", (amount, count) => {
    expect(() => splitAmount(amount, count)).toThrow(RangeError);
  });
});
