import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { isAlive } from "../../scripts/stack/supervisor";
import { eventually } from "../stack/clients";
import { appClients, bounded, buildGrabbers, buildPacket, drained, grab, mysqlPacket, stackPid } from "./support";

const clients = appClients();
afterAll(() => clients.close());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("red packets under failure", () => {
  it("loses no grab when a worker is killed with SIGKILL mid-storm", async () => {
    const [creator, ...grabbers] = await buildGrabbers(501);
    const amount = 1_000_000;
    const id = await buildPacket(creator, { amountCents: amount, count: 400, expiresInSeconds: 300 });
    const pid = stackPid("worker-red-packet-grabs-1");
    const killer = sleep(200).then(() => process.kill(pid, "SIGKILL"));
    const answers = await bounded(
      grabbers.map((g, i) => () => grab(id, g, i)),
      100,
    );
    await killer;
    const winners = grabbers
      .map((g, i) => ({ userId: g.id, amountCents: answers[i].body.amountCents, status: answers[i].status }))
      .filter((w) => w.status === 200)
      .map(({ userId, amountCents }) => ({ userId, amountCents }));
    expect(winners).toHaveLength(400);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 410)).toEqual([]);

    // The reaper requeues what the dead worker had claimed (after its timeout); re-runs are idempotent.
    await drained(clients.redis, id, 45_000);
    const db = await mysqlPacket(
      id,
      winners.map((w) => w.userId),
    );
    expect(db.grabs.sort((x, y) => x.userId - y.userId)).toEqual(winners.sort((x, y) => x.userId - y.userId));
    expect(db.grabs.reduce((sum, g) => sum + g.amountCents, 0)).toBe(amount);
    expect(db).toMatchObject({ remainingCount: 0, remainingCents: 0 });
    for (const w of winners) expect(db.balances.get(w.userId)).toBe(w.amountCents);
    expect(await clients.redis.llen(packetKeys(id).dead)).toBe(0);
    // The supervisor restarts the worker, so later tests see the whole stack.
    await eventually(
      async () => (!isAlive(pid) && stackPid("worker-red-packet-grabs-1") !== pid ? true : undefined),
      30_000,
    );
  });
});
