import { Counter, Gauge, Histogram } from "prom-client";

/** Valid events taken off the queue, by type (redeliveries included). */
export const eventsConsumed = new Counter({
  name: "floodgate_tracker_events_consumed_total",
  help: "Valid tracking events consumed, by type",
  labelNames: ["type"] as const,
});

/** Valid messages taken off the queue (a batch counts once; compare with eventsConsumed). */
export const messagesConsumed = new Counter({
  name: "floodgate_tracker_messages_consumed_total",
  help: "Valid tracking messages consumed (one message may carry many events)",
});

/** Messages that failed the tracking message schema and were dead-lettered. */
export const eventsInvalid = new Counter({
  name: "floodgate_tracker_events_invalid_total",
  help: "Tracking messages rejected as invalid (dead-lettered)",
});

/** Redelivered events recognised by id and not counted again. */
export const eventsDuplicate = new Counter({
  name: "floodgate_tracker_events_duplicate_total",
  help: "Tracking events recognised as redeliveries and not counted again",
});

/** Events whose counts were committed to MySQL. */
export const eventsFlushed = new Counter({
  name: "floodgate_tracker_events_flushed_total",
  help: "Tracking events committed to tracking_stats",
});

/** Time to commit one batch, by outcome. */
export const flushDuration = new Histogram({
  name: "floodgate_tracker_flush_duration_seconds",
  help: "Duration of one tracking_stats flush transaction, by outcome",
  labelNames: ["outcome"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

/** Events received but not yet committed and acked. */
export const eventsPending = new Gauge({
  name: "floodgate_tracker_events_pending",
  help: "Tracking events received but not yet committed and acknowledged",
});
