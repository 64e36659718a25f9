import { first } from "../../../../test/support/checked";
import { KeyedBatcher } from "./batcher";

// A run that records its batch and finishes when the test says so.
function recorder() {
  const runs: Array<{ key: string; items: number[]; finish: () => void; release: () => void }> = [];
  const run = (key: string, items: number[], release: () => void) =>
    new Promise<void>((finish) => runs.push({ key, items, finish, release }));
  return { runs, run };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("KeyedBatcher", () => {
  it("groups what waits by key and starts each group on flush", () => {
    const { runs, run } = recorder();
    const batcher = new KeyedBatcher<string, number>({ windowMs: 60_000, maxSize: 10 }, run);
    batcher.add("a", 1);
    batcher.add("b", 2);
    batcher.add("a", 3);
    expect(runs).toHaveLength(0); // the window is still open
    batcher.flush();
    expect(runs.map((r) => [r.key, r.items])).toEqual([
      ["a", [1, 3]],
      ["b", [2]],
    ]);
  });

  it("starts a group at once when it reaches maxSize, and no bigger", () => {
    const { runs, run } = recorder();
    const batcher = new KeyedBatcher<string, number>({ windowMs: 60_000, maxSize: 2 }, run);
    batcher.add("a", 1);
    batcher.add("a", 2);
    batcher.add("a", 3);
    expect(runs.map((r) => r.items)).toEqual([[1, 2]]);
    batcher.flush(); // a is running: 3 waits for it
    expect(runs).toHaveLength(1);
  });

  it("runs one batch per key at a time; what arrived meanwhile goes next, as one batch", async () => {
    const { runs, run } = recorder();
    const batcher = new KeyedBatcher<string, number>({ windowMs: 60_000, maxSize: 10 }, run);
    batcher.add("a", 1);
    batcher.flush();
    batcher.add("a", 2);
    batcher.add("a", 3);
    batcher.add("b", 4);
    batcher.flush();
    expect(runs.map((r) => [r.key, r.items])).toEqual([
      ["a", [1]],
      ["b", [4]],
    ]);
    first(runs, "the first run").finish();
    await settle();
    expect(runs.map((r) => r.items)).toEqual([[1], [4], [2, 3]]);
    runs.forEach((r) => r.finish());
    await batcher.drain();
  });

  it("lets a run release its key before it ends (committed, still settling)", () => {
    const { runs, run } = recorder();
    const batcher = new KeyedBatcher<string, number>({ windowMs: 60_000, maxSize: 10 }, run);
    batcher.add("a", 1);
    batcher.flush();
    batcher.add("a", 2);
    first(runs, "the first run").release();
    expect(runs.map((r) => r.items)).toEqual([[1], [2]]);
    first(runs, "the first run").release(); // a second release changes nothing
    expect(runs).toHaveLength(2);
    batcher.flush();
  });

  it("does not stall a key whose run throws", async () => {
    const seen: number[][] = [];
    const batcher = new KeyedBatcher<string, number>({ windowMs: 60_000, maxSize: 10 }, async (_key, items) => {
      seen.push(items);
      if (items.includes(1)) throw new Error("boom");
    });
    batcher.add("a", 1);
    batcher.flush();
    batcher.add("a", 2);
    await batcher.drain();
    expect(seen).toEqual([[1], [2]]);
  });

  it("gathers for windowMs after the first item, not pushed back by later ones", () => {
    jest.useFakeTimers();
    try {
      const seen: number[][] = [];
      const batcher = new KeyedBatcher<string, number>({ windowMs: 30, maxSize: 10 }, async (_key, items) => {
        seen.push(items);
      });
      batcher.add("a", 1);
      jest.advanceTimersByTime(20);
      batcher.add("b", 2);
      jest.advanceTimersByTime(9);
      expect(seen).toEqual([]);
      jest.advanceTimersByTime(1); // 30 ms after the first item: both go, b after only 10 ms
      expect(seen).toEqual([[1], [2]]);
    } finally {
      jest.useRealTimers();
    }
  });
});
