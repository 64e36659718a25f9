import { randomUUID } from "node:crypto";
import type { TrackingEvent } from "../platform/tracking";
import { parseTrackingMessage } from "./message";

const buildEvent = (overrides: Partial<TrackingEvent> = {}): TrackingEvent => ({
  id: randomUUID(),
  type: "view",
  subject: "user:1",
  userId: null,
  at: "2026-05-01T12:34:56.789Z",
  ...overrides,
});
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("parseTrackingMessage", () => {
  it("reads a single event, as APIs before batching published", () => {
    const event = buildEvent();

    expect(parseTrackingMessage(body(event))).toEqual([event]);
  });

  it("reads every event of a batch", () => {
    const events = [buildEvent(), buildEvent({ type: "sign_in", subject: "daily", userId: 3 })];

    expect(parseTrackingMessage(body({ events }))).toEqual(events);
  });

  it.each([
    ["text that is not JSON", Buffer.from("not json")],
    ["an invalid single event", body({ ...buildEvent(), userId: -1 })],
    ["an empty batch", body({ events: [] })],
    ["a batch with one invalid event", body({ events: [buildEvent(), { ...buildEvent(), type: "click" }] })],
    ["a batch over 1000 events", body({ events: Array.from({ length: 1001 }, () => buildEvent()) })],
  ])("rejects %s", (_, content) => {
    expect(parseTrackingMessage(content)).toBeNull();
  });
});
