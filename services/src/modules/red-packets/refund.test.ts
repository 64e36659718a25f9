import fc from "fast-check";
import { refundDue, refundStep } from "./refund";
import { splitAmount } from "./split";

describe("refundDue", () => {
  it.each([
    [1000, 0, 1000],
    [1000, 400, 600],
    [1000, 1000, 0],
  ])("refunds %p cents minus %p grabbed as %p", (amount, grabbed, due) => {
    expect(refundDue(amount, grabbed)).toBe(due);
  });

  it("conserves money: grabs of any prefix of the parts plus the refund equal the amount", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 500 })
          .chain((count) =>
            fc.tuple(
              fc.integer({ min: count, max: 1_000_000 }),
              fc.constant(count),
              fc.integer({ min: 0, max: count }),
            ),
          ),
        ([amount, count, taken]) => {
          const grabbed = splitAmount(amount, count)
            .slice(0, taken)
            .reduce((a, b) => a + b, 0);
          expect(grabbed + refundDue(amount, grabbed)).toBe(amount);
        },
      ),
    );
  });

  it("refuses grabs above the amount (corrupted data) instead of refunding a negative sum", () => {
    expect(() => refundDue(100, 101)).toThrow(RangeError);
  });
});

describe("refundStep", () => {
  it.each([
    ["no such packet", null, "not_found"],
    ["refunded already (even if expired)", { expired: true, refunded: true }, "already_refunded"],
    ["still running: grabs may come", { expired: false, refunded: false }, "not_expired"],
    ["expired, not yet refunded", { expired: true, refunded: false }, "refund"],
  ] as const)("%s → %s", (_, state, step) => {
    expect(refundStep(state)).toBe(step);
  });
});
