import { Cluster } from "ioredis";
import { at } from "../../../test/support/checked";
import { testAddresses, testTopology } from "../../../test/stack/test-stack";
import { BatchedLimiter } from "./batched-limiter";

// Only Date is faked: the windows are aligned to the clock, and a test must not straddle two.
const ONLY_DATE = [
  "hrtime",
  "nextTick",
  "performance",
  "queueMicrotask",
  "requestAnimationFrame",
  "cancelAnimationFrame",
  "requestIdleCallback",
  "cancelIdleCallback",
  "setImmediate",
  "clearImmediate",
  "setInterval",
  "clearInterval",
  "setTimeout",
  "clearTimeout",
] as const;

describe("BatchedLimiter (against the test stack's Redis Cluster)", () => {
  const redis = new Cluster(testAddresses().redis, {
    redisOptions: { username: "app", password: testTopology().redis.users.app.password },
  });
  let name = "";
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2030, 0, 1, 12, 0, 0, 100), doNotFake: [...ONLY_DATE] });
    name = `limiter-test-${process.hrtime.bigint()}`; // a fresh counter per test
  });
  afterEach(() => jest.useRealTimers());
  afterAll(() => redis.disconnect());

  const takeAll = (limiters: BatchedLimiter[], n: number, key: string) =>
    Promise.all(Array.from({ length: n }, (_, i) => at(limiters, i % limiters.length, "a limiter").take(key)));

  it("never grants more than the budget across processes, however many ask at once", async () => {
    const limit = { name, points: 300, durationSeconds: 60 };
    const replicas = [1, 2, 3].map(() => new BatchedLimiter(redis, limit));
    const answers = await takeAll(replicas, 1000, "10.0.0.1");
    expect(answers.filter((ms) => ms === 0)).toHaveLength(300);
    // Everything refused is told when the window ends (59.9 s from now).
    expect(new Set(answers.filter((ms) => ms > 0))).toEqual(new Set([59_900]));
  });

  it("grants a key every point of its budget, however its requests spread over processes", async () => {
    const limit = { name, points: 50, durationSeconds: 1 };
    const [a, b] = [new BatchedLimiter(redis, limit), new BatchedLimiter(redis, limit)];
    expect(await takeAll([a, b], 50, "user-9")).toEqual(Array(50).fill(0));
    expect(await a.take("user-9")).toBe(900);
    expect(await b.take("user-9")).toBe(900);
  });

  it("asks Redis once per turn for a hot key, not once per request", async () => {
    const evals = jest.spyOn(redis, "evalsha");
    try {
      const limiter = new BatchedLimiter(redis, { name, points: 1_000_000, durationSeconds: 1 });
      for (let round = 0; round < 20; round++) {
        expect(await takeAll([limiter], 100, "10.0.0.2")).toEqual(Array(100).fill(0));
      }
      expect(evals).toHaveBeenCalledTimes(20); // one call per turn of 100 requests
    } finally {
      evals.mockRestore();
    }
  });

  it("takes a quiet key's points one by one, stops asking once the budget is gone, and starts again next window", async () => {
    const evals = jest.spyOn(redis, "evalsha");
    try {
      const limit = { name, points: 5, durationSeconds: 1 };
      const [a, b] = [new BatchedLimiter(redis, limit), new BatchedLimiter(redis, limit)];
      const answers: number[] = [];
      for (let i = 0; i < 10; i++) answers.push(await (i % 2 ? b : a).take("user-7"));
      expect(answers).toEqual([0, 0, 0, 0, 0, 900, 900, 900, 900, 900]);
      expect(evals).toHaveBeenCalledTimes(7); // five points, then one "gone" for each process

      jest.setSystemTime(Date.now() + 1000);
      expect(await a.take("user-7")).toBe(0);
      expect(await b.take("user-8")).toBe(0); // and each key has its own budget
    } finally {
      evals.mockRestore();
    }
  });

  it("rejects every waiting request when Redis cannot be asked, and asks again for the next", async () => {
    let up = false;
    const limiter = new BatchedLimiter(redis, { name, points: 100, durationSeconds: 1 }, (call) =>
      up ? call() : Promise.reject(new Error("redis circuit open")),
    );
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => limiter.take("10.0.0.3")));
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill("rejected"));
    up = true;
    expect(await limiter.take("10.0.0.3")).toBe(0);
  });
});
