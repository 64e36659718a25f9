import amqp from "amqplib";
import { amqpUrl } from "../../scripts/stack/components/rabbitmq";
import { eventually, testAddresses, testTopology } from "../stack/clients";
import { runbook } from "./support";

// queue-drain run as on-call runs it (a child process) against the live test stack: a dead letter
// is a problem, the dry run leaves it, --purge-dlq --apply removes it.

const stack = () => ({ topology: testTopology(), addresses: testAddresses() });

const queueDrain = (...args: string[]) => runbook("queue-drain", ...args);

describe("queue-drain", () => {
  it("reports a dead letter, leaves it on a dry run and purges it with --purge-dlq --apply --yes", async () => {
    const connection = await amqp.connect(amqpUrl(stack(), "app"));
    try {
      const channel = await connection.createConfirmChannel();
      channel.sendToQueue("orders.dlq", Buffer.from(JSON.stringify({ drill: "queue-drain" })), { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    // The management API's counts lag the broker by its stats interval.
    const seen = await eventually(
      async () => {
        const r = await queueDrain();
        return /PROBLEM: dead letters orders\.dlq: [1-9]\d* messages/.test(r.out) ? r : undefined;
      },
      30_000,
      1000,
    );
    expect(seen.code).toBe(1);
    expect(seen.out).toMatch(/ok: queue orders: \d+ ready, \d+ unacked, [1-9]\d* consumers/);

    const dry = await queueDrain("--purge-dlq");
    expect(dry.code).toBe(1);
    expect(dry.out).toMatch(/would: purge [1-9]\d* messages from orders\.dlq/);

    const fix = await queueDrain("--purge-dlq", "--apply", "--yes");
    expect(fix.out).toMatch(/done\s+purge [1-9]\d* messages from orders\.dlq/);
    expect(fix.code).toBe(0);

    const after = await eventually(
      async () => {
        const r = await queueDrain();
        return /ok: dead letters orders\.dlq: 0 messages/.test(r.out) ? r : undefined;
      },
      30_000,
      1000,
    );
    expect(after.code).toBe(0);
  });

  it("names a bad --max-backlog and exits 2", async () => {
    const bad = await queueDrain("--max-backlog", "lots");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("--max-backlog lots: expected a whole number ≥ 0");
  });
});
