import type { PersistOutcome } from "../../modules/red-packets/grab-ledger";
import { grabFates, settlement, sortClaimed, type ClaimedGrab } from "./grab-settlement";

const claimed = (userId: number): ClaimedGrab => ({
  item: `${userId}:100:1700000000000`,
  grab: { userId, amountCents: 100, admittedAtMs: 1700000000000 },
});

describe("sortClaimed", () => {
  it.each([
    ["every item a grab", ["1:100:1700000000000", "2:100:1700000000000"], [1, 2], []],
    ["a malformed item goes apart", ["1:100:1700000000000", "garbage"], [1], ["garbage"]],
    ["zero cents is malformed", ["1:0:1700000000000"], [], ["1:0:1700000000000"]],
    ["nothing claimed", [], [], []],
  ])("%s", (_, items, users, malformed) => {
    const sorted = sortClaimed(items);
    expect(sorted.valid.map((v) => v.grab.userId)).toEqual(users);
    expect(sorted.malformed).toEqual(malformed);
  });
});

describe("grabFates and settlement", () => {
  const boom = new Error("deadlock");
  it.each<[string, Array<PersistOutcome | Error>, string[], Array<{ item: string; dead: boolean }>]>([
    [
      "committed now or before: out of processing, not dead",
      ["persisted", "duplicate"],
      ["persisted", "duplicate"],
      [
        { item: claimed(1).item, dead: false },
        { item: claimed(2).item, dead: false },
      ],
    ],
    [
      "refused by MySQL: onto the dead list",
      ["rejected", "persisted"],
      ["rejected", "persisted"],
      [
        { item: claimed(1).item, dead: true },
        { item: claimed(2).item, dead: false },
      ],
    ],
    [
      "not persisted: stays in processing for the reaper",
      [boom, "persisted"],
      ["retry", "persisted"],
      [{ item: claimed(2).item, dead: false }],
    ],
  ])("%s", (_, outcomes, kinds, settled) => {
    const fates = grabFates([claimed(1), claimed(2)], outcomes);
    expect(fates.map((f) => f.kind)).toEqual(kinds);
    expect(settlement([], fates)).toEqual(settled);
  });

  it("puts malformed items on the dead list first", () => {
    expect(settlement(["garbage"], grabFates([claimed(1)], ["persisted"]))).toEqual([
      { item: "garbage", dead: true },
      { item: claimed(1).item, dead: false },
    ]);
  });

  it("refuses outcomes that do not match the grabs one to one", () => {
    expect(() => grabFates([claimed(1), claimed(2)], ["persisted"])).toThrow(
      "expected the grabs and their outcomes to pair up, got 2 and 1",
    );
  });
});
