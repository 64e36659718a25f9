import { clusterHealth } from "../../infra/targets/local/components/redis";
import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { eventually, testAddresses, testTopology } from "../stack/clients";
import { masterOfKey } from "../support/redis";
import { appClients, bounded, buildGrabbers, buildPacket, drained, grab, mysqlPacket, stackPid } from "./support";
import { zip } from "../support/checked";

const clients = appClients();
afterAll(() => clients.close());
const ctx = () => ({ topology: testTopology(), addresses: testAddresses() });

/** A well-behaved client: a 503 means "outcome unknown"; retrying learns it (409 names the amount held). */
async function grabUntilAnswered(ref: string, user: Parameters<typeof grab>[1], i: number) {
  for (let attempt = 0; ; attempt++) {
    const answer = await grab(ref, user, i);
    if (answer.status !== 503 || attempt >= 80) return answer;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("a red-packet grab storm while the Redis master holding the packet is killed", () => {
  afterAll(async () => {
    // Leave the cluster as the other tests expect it: the killed node back, every master with a replica.
    await eventually(async () => ((await clusterHealth(ctx())).ok ? true : undefined), 60_000, 500);
  });

  it("credits exactly what each grabber was told, and the refund conserves the amount", async () => {
    const [creator, ...grabbers] = await buildGrabbers(401);
    const amount = 500_000;
    const count = 300;
    const expiresInSeconds = 20;
    const { id, ref } = await buildPacket(creator, { amountCents: amount, count, expiresInSeconds });
    const expiresAt = Date.now() + expiresInSeconds * 1000;
    const victim = await masterOfKey(packetKeys(id).meta);

    const killer = new Promise((r) => setTimeout(r, 100)).then(() => process.kill(stackPid(victim), "SIGKILL"));
    const answers = await bounded(
      grabbers.map((g, i) => () => grabUntilAnswered(ref, g, i)),
      20,
    );
    await killer;

    // Every client learned its outcome: a grab with its amount (200, or 409 on a retry), or 410.
    expect(answers.filter((a) => ![200, 409, 410].includes(a.status))).toEqual([]);
    expect(answers.filter((a) => a.status === 409 && a.body.error !== "already_grabbed")).toEqual([]);
    const told = zip(grabbers, answers)
      .map(([g, answer]) => ({
        userId: g.id,
        // A 409 already_grabbed names the amount the earlier, unconfirmed attempt won.
        amountCents: Number(answer.body.amountCents ?? answer.body.details?.amountCents),
        status: answer.status,
      }))
      .filter((t) => t.status !== 410)
      .map(({ userId, amountCents }) => ({ userId, amountCents }))
      .sort((x, y) => x.userId - y.userId);
    // More grabbers than parts, retrying past the failover: every part is won by someone — the
    // failover lost none (a master restarted before its replica took over would have erased them).
    expect(told).toHaveLength(count);

    // MySQL holds exactly the grabs the clients were told about, with the amounts they were told.
    await drained(clients.redis, id, 45_000);
    const db = await mysqlPacket(
      id,
      told.map((t) => t.userId),
    );
    expect([...db.grabs].sort((x, y) => x.userId - y.userId)).toEqual(told);
    for (const t of told) expect(db.balances.get(t.userId)).toBe(t.amountCents);
    expect(await clients.redis.llen(packetKeys(id).dead)).toBe(0);
    const grabbed = told.reduce((sum, t) => sum + t.amountCents, 0);
    expect(db.remainingCents).toBe(amount - grabbed);

    // At expiry the creator gets back exactly what nobody grabbed.
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now())));
    const refunded = await eventually(
      async () => {
        const after = await mysqlPacket(id, [creator.id]);
        return after.refunded ? after : undefined;
      },
      30_000,
      250,
    );
    expect(refunded.grabs).toHaveLength(told.length);
    expect(refunded.balances.get(creator.id)).toBe(amount - grabbed);
    process.stdout.write(
      `  red-packet failover: ${victim} killed; ${told.length}/${count} grabs told and persisted, ` +
        `${answers.filter((a) => a.status === 409).length} learned on retry, ` +
        `${answers.filter((a) => a.status === 410).length} answered 410, refund ${amount - grabbed}\n`,
    );
  });
});
