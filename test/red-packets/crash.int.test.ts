import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { REAP_AFTER_MS } from "../../services/src/workers/red-packets/upkeep-job";
import { isAlive } from "../../infra/targets/local/supervisor";
import { eventually } from "../stack/clients";
import {
  appClients,
  bounded,
  buildGrabbers,
  buildPacket,
  drained,
  grab,
  mysqlPacket,
  stackPid,
  workerOutcomes,
} from "./support";
import { zip } from "../support/checked";

const clients = appClients();
afterAll(() => clients.close());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("red packets under failure", () => {
  it("loses no grab when a worker is killed with SIGKILL mid-storm", async () => {
    const [creator, ...grabbers] = await buildGrabbers(501);
    const amount = 1_000_000;
    const { id, ref } = await buildPacket(creator, { amountCents: amount, count: 400, expiresInSeconds: 300 });
    const pid = stackPid("worker-red-packet-grabs-1");
    // Killed while grabs are still being admitted and persisted: MySQL has only some of them then.
    const killer = sleep(200).then(async () => {
      process.kill(pid, "SIGKILL");
      return (await mysqlPacket(id)).grabs.length;
    });
    const answers = await bounded(
      grabbers.map((g, i) => () => grab(ref, g, i)),
      100,
    );
    const persistedAtKill = await killer;
    expect(persistedAtKill).toBeLessThan(400);
    const winners = zip(grabbers, answers)
      .map(([g, answer]) => ({ userId: g.id, amountCents: answer.body.amountCents, status: answer.status }))
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
    process.stdout.write(`  red-packet crash: ${persistedAtKill}/400 grabs persisted when the worker was killed\n`);
    // The supervisor restarts the worker, so later tests see the whole stack.
    await eventually(
      async () => (!isAlive(pid) && stackPid("worker-red-packet-grabs-1") !== pid ? true : undefined),
      30_000,
    );
  });

  it("commits and settles every claimed grab when a worker is stopped with SIGTERM mid-storm", async () => {
    // Both workers up (the previous test's restart may still be starting).
    await eventually(async () => ((await workerOutcomes(0, "retried")) === null ? undefined : true), 30_000);
    const [creator, ...grabbers] = await buildGrabbers(301);
    const { id, ref } = await buildPacket(creator, { amountCents: 600_000, count: 300, expiresInSeconds: 300 });
    const retriedBefore = await workerOutcomes(1, "retried");
    const pid = stackPid("worker-red-packet-grabs-1");
    const stopper = sleep(150).then(() => process.kill(pid, "SIGTERM"));
    const answers = await bounded(
      grabbers.map((g, i) => () => grab(ref, g, i)),
      100,
    );
    await stopper;
    await eventually(async () => (isAlive(pid) ? undefined : true), 30_000, 50);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // Drained well before the reaper's timeout could have requeued anything: nothing was abandoned.
    await drained(clients.redis, id, REAP_AFTER_MS - 1000);
    const db = await mysqlPacket(id);
    expect(db.grabs).toHaveLength(300);
    expect(db).toMatchObject({ remainingCount: 0, remainingCents: 0 });
    expect(await workerOutcomes(1, "retried")).toBe(retriedBefore);
    await eventually(
      async () =>
        stackPid("worker-red-packet-grabs-1") !== pid && (await workerOutcomes(0, "retried")) !== null
          ? true
          : undefined,
      30_000,
    );
  });
});
