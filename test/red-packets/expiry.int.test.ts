import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { refundPacket } from "../../services/src/modules/red-packets/refund";
import { call } from "../support/api";
import { appClients, buildGrabbers, buildPacket, drained, grab, mysqlPacket } from "./support";

const clients = appClients();
afterAll(() => clients.close());

// An admitted grab whose queue item no worker has (a worker stalled, or it was lost): only the
// grabbed hash knows it. The refund must still pay it and leave it out of the creator's remainder.
const ADMIT_WITHOUT_QUEUE = `
local part = redis.call('LPOP', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], part)
return tonumber(part)`;

describe("red-packet expiry", () => {
  it("answers 410 expired after expiry and refunds the remainder to the creator exactly once", async () => {
    const [creator, a, b, late, hidden] = await buildGrabbers(5);
    const amount = 10_000;
    const { id, ref } = await buildPacket(creator, { amountCents: amount, count: 8, expiresInSeconds: 10 });
    const gotA = (await grab(ref, a)).body.amountCents!;
    const gotB = (await grab(ref, b, 1)).body.amountCents!;
    const k = packetKeys(id);
    const hiddenCents = Number(await clients.redis.eval(ADMIT_WITHOUT_QUEUE, 2, k.parts, k.grabbed, hidden.id));
    await drained(clients.redis, id);
    const view = await call<{ expiresAt: string }>("GET", `/red-packets/${ref}`, { token: creator.token });
    const expiresAtMs = Date.parse(view.body.expiresAt);
    expect(expiresAtMs - Date.now()).toBeGreaterThan(5000);

    await new Promise((r) => setTimeout(r, expiresAtMs - Date.now() + 20));
    // Two refund runs race each other (and the workers' own refund job, which runs every second).
    const runs = await Promise.all([1, 2].map(() => refundPacket({ db: clients.db, store: clients.store }, id)));
    expect(runs.filter((r) => r.outcome === "refunded").length).toBeLessThanOrEqual(1);
    expect(await grab(ref, late, 2)).toMatchObject({ status: 410, body: { error: "expired" } });

    const after = await mysqlPacket(id, [creator.id, a.id, b.id, hidden.id]);
    const grabbed = gotA + gotB + hiddenCents;
    expect(after.refunded).toBe(true);
    expect(after.grabs.map((g) => g.amountCents).reduce((x, y) => x + y, 0)).toBe(grabbed);
    expect(after.balances.get(hidden.id)).toBe(hiddenCents);
    expect(after.balances.get(creator.id)).toBe(amount - grabbed);
    // Money conserved: the refund and every grab add up to the amount, to the cent.
    expect(after.balances.get(creator.id)! + gotA + gotB + hiddenCents).toBe(amount);
    // Later runs change nothing.
    expect((await refundPacket({ db: clients.db, store: clients.store }, id)).outcome).toBe("already_refunded");
    expect((await mysqlPacket(id, [creator.id])).balances.get(creator.id)).toBe(amount - grabbed);
  });

  it("does not refund a packet before it expires", async () => {
    const [creator] = await buildGrabbers(1);
    const { id } = await buildPacket(creator, { amountCents: 500, count: 2, expiresInSeconds: 60 });
    expect(await refundPacket({ db: clients.db, store: clients.store }, id)).toEqual({ outcome: "not_expired" });
    expect((await mysqlPacket(id, [creator.id])).balances.get(creator.id)).toBe(0);
  });
});
