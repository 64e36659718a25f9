import pino from "pino";
import { first } from "../../../test/support/checked";
import { TRACKING_QUEUE, Tracking, TrackingBatchSchema, type TrackingOptions } from "./tracking";

/** A stand-in for MessageBroker.publish that records each message and settles it when told. */
function buildBroker() {
  const sent: Array<{ queue: string; body: unknown; messageId: string; settle: (err?: Error) => void }> = [];
  const broker = {
    sent,
    publish: (queue: string, body: unknown, messageId: string) =>
      new Promise<void>((resolve, reject) =>
        sent.push({ queue, body, messageId, settle: (err) => (err ? reject(err) : resolve()) }),
      ),
    /** Events in each message, in order. */
    sizes: () => sent.map((m) => TrackingBatchSchema.parse(m.body).events.length),
  };
  return broker;
}

const silentLog = pino({ level: "silent" });
const options: TrackingOptions = { maxBatch: 200, maxDelayMs: 100, maxBuffered: 10_000, maxInFlight: 4 };
const trackViews = (tracking: Tracking, n: number) => {
  for (let i = 0; i < n; i++) tracking.track("view", `user:${i}`, null);
};

describe("Tracking", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("publishes one message as soon as 200 events wait", () => {
    const broker = buildBroker();
    const tracking = new Tracking(broker, silentLog, options);

    trackViews(tracking, 199);
    expect(broker.sent).toHaveLength(0);
    trackViews(tracking, 1);

    expect(broker.sizes()).toEqual([200]);
    expect(broker.sent[0]).toMatchObject({ queue: TRACKING_QUEUE, messageId: expect.any(String) });
  });

  it("publishes a partial batch 100 ms after its first event", () => {
    const broker = buildBroker();
    const tracking = new Tracking(broker, silentLog, options);

    trackViews(tracking, 3);
    jest.advanceTimersByTime(60);
    trackViews(tracking, 2);
    jest.advanceTimersByTime(39);
    expect(broker.sent).toHaveLength(0);
    jest.advanceTimersByTime(1);

    expect(broker.sizes()).toEqual([5]);
  });

  it("gives every batch its own message id and every event its own id", () => {
    const broker = buildBroker();
    const tracking = new Tracking(broker, silentLog, options);

    trackViews(tracking, 450);
    jest.advanceTimersByTime(100);

    expect(broker.sizes()).toEqual([200, 200, 50]);
    expect(new Set(broker.sent.map((m) => m.messageId)).size).toBe(3);
    const ids = broker.sent.flatMap((m) => TrackingBatchSchema.parse(m.body).events.map((e) => e.id));
    expect(new Set(ids).size).toBe(450);
  });

  it("swallows a failed publish and keeps publishing later batches", async () => {
    const broker = buildBroker();
    const tracking = new Tracking(broker, silentLog, options);

    trackViews(tracking, 200);
    first(broker.sent, "the first publish").settle(new Error("rabbitmq is not connected"));
    await jest.runAllTimersAsync();
    trackViews(tracking, 200);

    expect(broker.sizes()).toEqual([200, 200]);
  });

  it("flush publishes what waits at once and resolves when every publish settled", async () => {
    const broker = buildBroker();
    const tracking = new Tracking(broker, silentLog, options);
    trackViews(tracking, 7);

    let flushed = false;
    const flush = tracking.flush().then(() => (flushed = true));
    expect(broker.sizes()).toEqual([7]);
    await Promise.resolve();
    expect(flushed).toBe(false);
    first(broker.sent, "the first publish").settle();
    await flush;

    expect(flushed).toBe(true);
  });

  it("holds events while the in-flight limit is reached, then drops beyond the bound", async () => {
    const broker = buildBroker();
    const tracking = new Tracking(broker, silentLog, { ...options, maxInFlight: 1, maxBuffered: 1000 });

    trackViews(tracking, 200); // published, never confirmed yet
    trackViews(tracking, 1100);

    expect(broker.sizes()).toEqual([200]);
    expect(tracking.dropped).toBe(100);
    first(broker.sent, "the first publish").settle();
    await jest.advanceTimersByTimeAsync(0);
    expect(broker.sizes()).toEqual([200, 200]);
  });

  it("sends the waiting events once publishes settle, without a new event to trigger it", async () => {
    const broker = buildBroker();
    const tracking = new Tracking(broker, silentLog, { ...options, maxInFlight: 1 });

    trackViews(tracking, 250);
    await jest.advanceTimersByTimeAsync(100); // the leftover 50 are due, but one publish is pending
    expect(broker.sizes()).toEqual([200]);
    first(broker.sent, "the first publish").settle();
    await jest.advanceTimersByTimeAsync(0);

    expect(broker.sizes()).toEqual([200, 50]);
  });
});
