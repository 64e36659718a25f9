import { LRUCache } from "lru-cache";
import type { TrackingEvent } from "../platform/tracking";

/** One row of tracking_stats to add: a count for (type, subject, minute). */
export interface StatRow {
  type: TrackingEvent["type"];
  subject: string;
  /** UTC minute as MySQL DATETIME text, "YYYY-MM-DD HH:MM:00". */
  minute: string;
  count: number;
}

/** The UTC minute an ISO timestamp falls in, as MySQL DATETIME text. */
export function minuteOf(at: string): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}:00`;
}

/**
 * Messages received since the last flush: counts per (type, subject, minute) plus every delivery to
 * settle once the counts are committed. A message may carry many events but is held once, so it
 * is acked once. An event id seen twice (a redelivery) is counted once.
 */
export class StatsBatch<D> {
  private readonly counts = new Map<string, StatRow>();
  private readonly ids = new Set<string>();
  private events = 0;
  readonly deliveries: D[] = [];

  /** Messages received (what the broker's prefetch window counts). */
  get size(): number {
    return this.deliveries.length;
  }

  /** Events received in those messages, duplicates included. */
  get eventCount(): number {
    return this.events;
  }

  /** Ids counted in this batch. */
  get eventIds(): Iterable<string> {
    return this.ids;
  }

  /** True when this batch already counts the event id. */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  /**
   * Add one delivered message and its events; `known(id)` says whether an event was already counted
   * elsewhere. Returns how many of the events were duplicates.
   */
  add(delivery: D, events: readonly TrackingEvent[], known: (id: string) => boolean = () => false): number {
    this.deliveries.push(delivery);
    this.events += events.length;
    let duplicates = 0;
    for (const event of events) {
      if (known(event.id) || this.ids.has(event.id)) duplicates++;
      else this.count(event);
    }
    return duplicates;
  }

  private count(event: TrackingEvent): void {
    this.ids.add(event.id);
    const minute = minuteOf(event.at);
    const key = JSON.stringify([event.type, event.subject, minute]);
    const row = this.counts.get(key);
    if (row) row.count++;
    else this.counts.set(key, { type: event.type, subject: event.subject, minute, count: 1 });
  }

  /** Fold a batch that failed to flush back in, so its counts are retried with this one. */
  absorb(failed: StatsBatch<D>): void {
    this.deliveries.unshift(...failed.deliveries);
    this.events += failed.events;
    for (const id of failed.ids) this.ids.add(id);
    for (const [key, row] of failed.counts) {
      const mine = this.counts.get(key);
      if (mine) mine.count += row.count;
      else this.counts.set(key, { ...row });
    }
  }

  /** The rows to add, sorted by key so concurrent flushers lock rows in one order (no deadlocks). */
  rows(): StatRow[] {
    return [...this.counts.values()].sort(
      (a, b) => a.type.localeCompare(b.type) || a.subject.localeCompare(b.subject) || a.minute.localeCompare(b.minute),
    );
  }
}

/** Ids of events already committed, for a while: a redelivery inside the window is not counted again. */
export class RecentIds {
  private readonly ids: LRUCache<string, true>;

  constructor(windowMs = 10 * 60_000, max = 200_000) {
    this.ids = new LRUCache<string, true>({ max, ttl: windowMs });
  }

  /** Remember committed ids. */
  addAll(ids: Iterable<string>): void {
    for (const id of ids) this.ids.set(id, true);
  }

  /** True when the id was committed within the window. */
  has(id: string): boolean {
    return this.ids.has(id);
  }
}
