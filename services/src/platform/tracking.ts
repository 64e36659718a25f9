import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Logger } from "./log";
import type { MessageBroker } from "./mq";

/** The RabbitMQ queue behaviour events travel on. */
export const TRACKING_QUEUE = "tracking";

/** One behaviour event, as the API publishes it and the tracker consumes it. */
export const TrackingEventSchema = z.object({
  id: z.uuid(),
  type: z.enum(["view", "purchase_attempt", "sign_in"]),
  /** What the event is about, e.g. "product:42" or "flash_sale:7". */
  subject: z.string().min(1).max(64),
  userId: z.number().int().positive().nullable(),
  at: z.iso.datetime(),
});

/** A behaviour event. */
export type TrackingEvent = z.infer<typeof TrackingEventSchema>;

/** Fire-and-forget publisher: the API never waits on the tracker and keeps working when it is down. */
export class Tracking {
  constructor(
    private readonly mq: MessageBroker,
    private readonly log: Logger,
  ) {}

  /** Publish an event in the background; a failure is counted and logged, never raised. */
  track(type: TrackingEvent["type"], subject: string, userId: number | null): void {
    const event: TrackingEvent = { id: randomUUID(), type, subject, userId, at: new Date().toISOString() };
    this.mq
      .publish(TRACKING_QUEUE, event, event.id)
      .catch((err: Error) => this.log.debug({ err: err.message }, "tracking event dropped"));
  }
}
