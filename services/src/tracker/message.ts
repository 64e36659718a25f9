import { z } from "zod";
import { TrackingBatchSchema, TrackingEventSchema, type TrackingEvent } from "../platform/tracking";

/** A tracking message: a batch, or a single event as APIs before batching published (still queued during an upgrade). */
export const TrackingMessageSchema = z.union([TrackingBatchSchema, TrackingEventSchema]);

/** The events a message body carries, or null when it is not valid JSON or fails the schema (dead-letter it). */
export function parseTrackingMessage(content: Buffer): TrackingEvent[] | null {
  let json: unknown;
  try {
    json = JSON.parse(content.toString("utf8"));
  } catch {
    return null;
  }
  const result = TrackingMessageSchema.safeParse(json);
  if (!result.success) return null;
  return "events" in result.data ? result.data.events : [result.data];
}
