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
    batch.add(1, [buildEvent(), buildEvent()]);
    batch.add(2, [buildEvent({ subject: "product:2" })]);
    batch.add(3, [buildEvent({ type: "sign_in" }), buildEvent({ at: "2026-05-01T12:35:00.000Z" })]);

    expect(batch.rows()).toEqual([
      { type: "sign_in", subject: "product:1", minute: "2026-05-01 12:34:00", count: 1 },
      { type: "view", subject: "product:1", minute: "2026-05-01 12:34:00", count: 2 },
      { type: "view", subject: "product:1", minute: "2026-05-01 12:35:00", count: 1 },
      { type: "view", subject: "product:2", minute: "2026-05-01 12:34:00", count: 1 },
    ]);
    expect({ size: batch.size, eventCount: batch.eventCount }).toEqual({ size: 3, eventCount: 5 });
  });

  it("holds a message of many events once, so it is acknowledged once", () => {
    const batch = new StatsBatch<string>();

    batch.add(
      "batch-message",
      Array.from({ length: 200 }, () => buildEvent()),
    );

    expect(batch.deliveries).toEqual(["batch-message"]);
    expect(batch.rows()).toEqual([expect.objectContaining({ count: 200 })]);
  });

  it("counts a redelivered event once but keeps both deliveries to acknowledge", () => {
    const batch = new StatsBatch<string>();
    const event = buildEvent();

    expect(batch.add("first", [event])).toBe(0);
    expect(batch.add("redelivery", [event, buildEvent()])).toBe(1);

    expect(batch.rows()).toEqual([expect.objectContaining({ count: 2 })]);
    expect(batch.deliveries).toEqual(["first", "redelivery"]);
  });

  it("does not count an event already committed elsewhere", () => {
    const batch = new StatsBatch<number>();
    const committed = buildEvent();

    expect(batch.add(1, [committed, buildEvent()], (id) => id === committed.id)).toBe(1);

    expect(batch.rows()).toEqual([expect.objectContaining({ count: 1 })]);
    expect(batch.eventCount).toBe(2);
  });

  it("absorbs a batch that failed to flush, summing counts and keeping its deliveries first", () => {
    const failed = new StatsBatch<number>();
    failed.add(1, [buildEvent()]);
    failed.add(2, [buildEvent({ subject: "product:9" }), buildEvent({ subject: "product:9" })]);
    const next = new StatsBatch<number>();
    next.add(3, [buildEvent()]);

    next.absorb(failed);

    expect(next.rows()).toEqual([
      expect.objectContaining({ subject: "product:1", count: 2 }),
      expect.objectContaining({ subject: "product:9", count: 2 }),
    ]);
    expect(next.deliveries).toEqual([1, 2, 3]);
    expect(next.eventCount).toBe(4);
    expect([...next.eventIds]).toHaveLength(4);
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
