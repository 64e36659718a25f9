import { randomUUID } from "node:crypto";
import type { TrackingEvent } from "../platform/tracking";
import { minuteOf, RecentIds, StatsBatch } from "./aggregate";

const buildEvent = (overrides: Partial<TrackingEvent> = {}): TrackingEvent => ({
  id: randomUUID(),
  type: "view",
  subject: "product:1",
  userId: null,
  at: "2026-05-01T12:34:56.789Z",
  ...overrides,
});

describe("minuteOf", () => {
  it.each([
    ["2026-05-01T12:34:56.789Z", "2026-05-01 12:34:00"],
    ["2026-05-01T12:34:00Z", "2026-05-01 12:34:00"],
    ["2026-12-31T23:59:59.999Z", "2026-12-31 23:59:00"],
  ])("puts %s in the UTC minute %s", (at, minute) => {
    expect(minuteOf(at)).toBe(minute);
  });
});

describe("StatsBatch", () => {
  it("counts events per type, subject and minute", () => {
    const batch = new StatsBatch<number>();
    batch.add(buildEvent(), 1);
    batch.add(buildEvent(), 2);
    batch.add(buildEvent({ subject: "product:2" }), 3);
    batch.add(buildEvent({ type: "sign_in" }), 4);
    batch.add(buildEvent({ at: "2026-05-01T12:35:00.000Z" }), 5);

    expect(batch.rows()).toEqual([
      { type: "sign_in", subject: "product:1", minute: "2026-05-01 12:34:00", count: 1 },
      { type: "view", subject: "product:1", minute: "2026-05-01 12:34:00", count: 2 },
      { type: "view", subject: "product:1", minute: "2026-05-01 12:35:00", count: 1 },
      { type: "view", subject: "product:2", minute: "2026-05-01 12:34:00", count: 1 },
    ]);
    expect(batch.size).toBe(5);
  });

  it("counts a redelivered event once but keeps both deliveries to acknowledge", () => {
    const batch = new StatsBatch<string>();
    const event = buildEvent();

    expect(batch.add(event, "first")).toBe("counted");
    expect(batch.add(event, "redelivery")).toBe("duplicate");

    expect(batch.rows()).toEqual([expect.objectContaining({ count: 1 })]);
    expect(batch.deliveries).toEqual(["first", "redelivery"]);
  });

  it("does not count an event already committed elsewhere", () => {
    const batch = new StatsBatch<number>();

    expect(batch.add(buildEvent(), 1, true)).toBe("duplicate");

    expect(batch.rows()).toEqual([]);
    expect(batch.size).toBe(1);
  });

  it("absorbs a batch that failed to flush, summing counts and keeping its deliveries first", () => {
    const failed = new StatsBatch<number>();
    failed.add(buildEvent(), 1);
    failed.add(buildEvent({ subject: "product:9" }), 2);
    const next = new StatsBatch<number>();
    next.add(buildEvent(), 3);

    next.absorb(failed);

    expect(next.rows()).toEqual([
      expect.objectContaining({ subject: "product:1", count: 2 }),
      expect.objectContaining({ subject: "product:9", count: 1 }),
    ]);
    expect(next.deliveries).toEqual([1, 2, 3]);
    expect([...next.eventIds]).toHaveLength(3);
  });
});

describe("RecentIds", () => {
  it("remembers committed ids within its window only", async () => {
    const recent = new RecentIds(50);
    recent.addAll(["a", "b"]);

    expect(recent.has("a")).toBe(true);
    expect(recent.has("c")).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect(recent.has("a")).toBe(false);
  });
});
