import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { amqpUrl } from "../../../infra/targets/local/components/rabbitmq";
import { readState } from "../../../infra/targets/local/state";
import { eventually, getJson, testAddresses, testTopology } from "../../../test/stack/clients";
import { testLayout } from "../../../test/stack/test-stack";
import { buildUser, call } from "../../../test/support/api";
import { counterAt } from "../../../test/support/metrics";
import { TRACKING_QUEUE, type TrackingEvent } from "../platform/tracking";

interface Stats {
  type: string;
  subject: string;
  total: number;
  minutes: Array<{ minute: string; count: number }>;
}

const a = testAddresses();
const trackerUrl = `http://${a.tracker.host}:${a.tracker.port}`;
const stats = (type: string, subject: string) =>
  getJson<Stats>(`${trackerUrl}/stats?type=${type}&subject=${encodeURIComponent(subject)}`);
// The supervisor restarts a tracker that exits; the state file names the current process.
const trackerPid = () => readState(testLayout().stateFile)!.processes.find((p) => p.name === "tracker")!.pid;
const uniqueSubject = () => `test:${randomUUID().slice(0, 12)}`;

const buildEvent = (overrides: Partial<TrackingEvent> = {}): TrackingEvent => ({
  id: randomUUID(),
  type: "view",
  subject: uniqueSubject(),
  userId: 7,
  at: new Date().toISOString(),
  ...overrides,
});

describe("tracker service", () => {
  let connection: amqp.ChannelModel;
  let channel: amqp.ConfirmChannel;

  beforeAll(async () => {
    connection = await amqp.connect(amqpUrl({ topology: testTopology(), addresses: a }, "app"));
    channel = await connection.createConfirmChannel();
  });
  afterAll(() => connection.close());

  const publish = async (bodies: Array<{ id: string; content: Buffer }>) => {
    for (const b of bodies) channel.sendToQueue(TRACKING_QUEUE, b.content, { persistent: true, messageId: b.id });
    await channel.waitForConfirms();
  };
  const asMessage = (e: TrackingEvent) => ({ id: e.id, content: Buffer.from(JSON.stringify(e)) });

  describe("GET /stats", () => {
    it("counts every confirmed event exactly once, per minute", async () => {
      const subject = uniqueSubject();
      const events = [
        ...Array.from({ length: 25 }, () => buildEvent({ subject })),
        ...Array.from({ length: 5 }, () => buildEvent({ subject, at: "2026-01-01T10:00:30.000Z" })),
        buildEvent({ subject, type: "purchase_attempt" }),
      ];

      await publish(events.map(asMessage));

      const seen = await eventually(async () => {
        const { body } = await stats("view", subject);
        return body.total === 30 ? body : undefined;
      });
      expect(seen.minutes).toEqual(
        expect.arrayContaining([{ minute: "2026-01-01T10:00:00Z", count: 5 }, expect.objectContaining({ count: 25 })]),
      );
      await new Promise((r) => setTimeout(r, 1500)); // a second flush must not add anything
      expect((await stats("view", subject)).body.total).toBe(30);
      expect((await stats("purchase_attempt", subject)).body.total).toBe(1);
    });

    it("counts a redelivered event (same id) once", async () => {
      const event = buildEvent();

      await publish([asMessage(event), asMessage(event)]);
      await eventually(async () => ((await stats("view", event.subject)).body.total === 1 ? true : undefined));
      await new Promise((r) => setTimeout(r, 1500));

      expect((await stats("view", event.subject)).body.total).toBe(1);
    });

    it.each([
      ["an unknown type", "type=click&subject=product:1"],
      ["a missing subject", "type=view"],
      ["an over-long subject", `type=view&subject=${"x".repeat(65)}`],
      ["an unknown parameter", "type=view&subject=a&extra=1"],
    ])("answers 400 validation_failed to %s", async (_, query) => {
      const { status, body } = await getJson<{ error: string }>(`${trackerUrl}/stats?${query}`);

      expect({ status, error: body.error }).toEqual({ status: 400, error: "validation_failed" });
    });
  });

  describe("invalid messages", () => {
    it("dead-letters them to tracking.dlq without counting them", async () => {
      const subject = uniqueSubject();
      const badEvent = { ...buildEvent({ subject }), userId: -1 };
      const notJson = { id: randomUUID(), content: Buffer.from("not json") };

      await publish([{ id: badEvent.id, content: Buffer.from(JSON.stringify(badEvent)) }, notJson]);

      const wanted = new Set([badEvent.id, notJson.id]);
      await eventually(
        async () => {
          const message = await channel.get(`${TRACKING_QUEUE}.dlq`, { noAck: false });
          if (message) {
            wanted.delete(String(message.properties.messageId));
            channel.ack(message);
          }
          return wanted.size === 0 ? true : undefined;
        },
        15_000,
        50,
      );
      expect((await stats("view", subject)).body.total).toBe(0);
    });
  });

  describe("events published through the API", () => {
    it("counts a burst of profile views exactly, carried in far fewer messages than views", async () => {
      const user = await buildUser();
      const subject = `user:${user.id}`;
      const views = 500;
      // Counters live in the tracker process: the comparison holds only if it is the same one throughout.
      const pid = trackerPid();
      const events = () => counterAt(a.tracker.port, "floodgate_tracker_events_consumed_total", { type: "view" });
      const messages = () => counterAt(a.tracker.port, "floodgate_tracker_messages_consumed_total");
      const [eventsBefore, messagesBefore] = [await events(), await messages()];

      let served = 0;
      while (served < views) {
        const answers = await Promise.all(
          Array.from({ length: Math.min(25, views - served) }, () => call("GET", `/users/${user.id}/profile`)),
        );
        // A 429 (other tests share the per-address budget) is not a view: only answered reads count.
        for (const answer of answers) expect([200, 429]).toContain(answer.status);
        served += answers.filter((x) => x.status === 200).length;
      }

      await eventually(async () => ((await stats("view", subject)).body.total >= views ? true : undefined), 30_000);
      await new Promise((r) => setTimeout(r, 1500)); // a later flush must not add anything
      expect((await stats("view", subject)).body.total).toBe(views);
      expect(trackerPid()).toBe(pid);
      expect(await events()).toBeGreaterThanOrEqual(eventsBefore + views);
      // One message per read would be >= 500; batches of up to 200 events or 100 ms are a few dozen.
      expect((await messages()) - messagesBefore).toBeLessThan(views / 5);
    });
  });

  describe("graceful shutdown", () => {
    it("loses and double-counts nothing when stopped with SIGTERM mid-stream and restarted", async () => {
      const subject = uniqueSubject();
      const before = trackerPid();

      await publish(Array.from({ length: 300 }, () => asMessage(buildEvent({ subject }))));
      process.kill(before, "SIGTERM");

      await eventually(async () => (trackerPid() !== before ? true : undefined), 30_000);
      await eventually(async () => ((await stats("view", subject)).body.total === 300 ? true : undefined), 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      expect((await stats("view", subject)).body.total).toBe(300);
    });
  });

  describe("GET /health and /metrics", () => {
    it("reports its dependencies and exposes its counters", async () => {
      const health = await getJson<{ status: string; checks: Record<string, { status: string }> }>(
        `${trackerUrl}/health`,
      );
      expect(health).toMatchObject({
        status: 200,
        body: { status: "ok", checks: { mysql: { status: "up" }, rabbitmq: { status: "up" } } },
      });

      // The flush histogram has a series only once this process has flushed (an earlier test may
      // have restarted the tracker): count one event first.
      const event = buildEvent();
      await publish([asMessage(event)]);
      await eventually(async () => ((await stats("view", event.subject)).body.total === 1 ? true : undefined));
      const metrics = await (await fetch(`${trackerUrl}/metrics`)).text();
      for (const name of [
        "floodgate_tracker_events_consumed_total",
        "floodgate_tracker_events_invalid_total",
        "floodgate_tracker_events_flushed_total",
        "floodgate_tracker_flush_duration_seconds_bucket",
      ]) {
        expect(metrics).toContain(name);
      }
    });
  });
});
