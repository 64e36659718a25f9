import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { call } from "../support/api";
import { appClients, bounded, buildGrabbers, buildPacket, drained, grab, mysqlPacket } from "./support";
import { zip } from "../support/checked";

const clients = appClients();
afterAll(() => clients.close());

describe("a red-packet storm", () => {
  it("gives 10 parts to 1,000 concurrent grabbers, exactly, and persists every one", async () => {
    const [creator, ...grabbers] = await buildGrabbers(1001);
    const amount = 88_888;
    const { id, ref } = await buildPacket(creator, { amountCents: amount, count: 10, expiresInSeconds: 120 });

    // Each grabber is a client that does what a 503 asks: it waits Retry-After and asks again (a
    // Redis call that timed out on a busy machine leaves the outcome unknown; the retry learns it:
    // 409 with the part it got, or 410). Each grabber's last answer counts.
    let retried = 0;
    const grabUntilKnown = async (g: (typeof grabbers)[number], i: number) => {
      for (let attempt = 1; ; attempt++) {
        const a = await grab(ref, g, i);
        if (a.status !== 503 || attempt === 5) return a;
        expect(Number(a.headers.get("retry-after"))).toBeGreaterThan(0);
        retried++;
        await new Promise((r) => setTimeout(r, 1000 * Number(a.headers.get("retry-after"))));
      }
    };
    const started = Date.now();
    const answers = await bounded(
      grabbers.map((g, i) => () => grabUntilKnown(g, i)),
      1000,
    );
    const stormMs = Date.now() - started;
    const won = (a: (typeof answers)[number]) =>
      a.status === 200 || (a.status === 409 && a.body.error === "already_grabbed");
    const winners = zip(grabbers, answers)
      .map(([g, answer]) => ({
        userId: g.id,
        won: won(answer),
        amountCents: answer.body.amountCents ?? answer.body.details?.amountCents,
      }))
      .filter((w) => w.won)
      .map(({ userId, amountCents }) => ({ userId, amountCents }));
    // As a tally, so a failure shows every answer that was neither a part nor "empty".
    const tally: Record<string, number> = {};
    for (const a of answers) {
      const k = won(a) ? "part" : `${a.status} ${a.body.error ?? ""}`.trim();
      tally[k] = (tally[k] ?? 0) + 1;
    }
    expect(tally).toEqual({ part: 10, "410 empty": 990 });
    expect(winners).toHaveLength(10);

    await drained(clients.redis, id);
    const persistedMs = Date.now() - started;
    const db = await mysqlPacket(
      id,
      winners.map((w) => w.userId),
    );
    expect(db.grabs).toHaveLength(10);
    expect(new Set(db.grabs.map((g) => g.userId)).size).toBe(10);
    expect(db.grabs.reduce((sum, g) => sum + g.amountCents, 0)).toBe(amount);
    expect(db.grabs.sort((x, y) => x.userId - y.userId)).toEqual(
      winners.map((w) => ({ userId: w.userId, amountCents: w.amountCents })).sort((x, y) => x.userId - y.userId),
    );
    for (const w of winners) expect(db.balances.get(w.userId)).toBe(w.amountCents);
    expect(db).toMatchObject({ remainingCount: 0, remainingCents: 0 });
    expect(await clients.redis.llen(packetKeys(id).dead)).toBe(0);

    const view = await call<{ grabs: unknown[] }>("GET", `/red-packets/${ref}`, { token: creator.token });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ amountCents: amount, count: 10, remainingCount: 0, remainingCents: 0 });
    expect(view.body.grabs).toEqual(expect.arrayContaining(db.grabs));
    expect(view.body.grabs).toHaveLength(10);
    process.stdout.write(
      `  red-packet storm: 1000 grabs answered in ${stormMs} ms (${retried} retried after a 503), ` +
        `all persisted by ${persistedMs} ms\n`,
    );
  });
});
