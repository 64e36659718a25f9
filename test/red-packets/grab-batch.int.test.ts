import { persistGrab, persistGrabs } from "../../services/src/modules/red-packets/grab-ledger";
import { appClients, buildGrabbers, buildPacket, mysqlPacket } from "./support";

const clients = appClients();
afterAll(() => clients.close());

describe("persisting admitted grabs in batches", () => {
  it("records a batch in one transaction, and a grab recorded before comes back a duplicate, credited once", async () => {
    const [creator, a, b, c] = await buildGrabbers(4);
    const { id } = await buildPacket(creator, { amountCents: 1000, count: 5, expiresInSeconds: 120 });
    expect(await persistGrab(clients.db, id, a.id, 100)).toBe("persisted");

    const transactions = jest.spyOn(clients.db, "transaction");
    try {
      const outcomes = await persistGrabs(clients.db, id, [
        { userId: a.id, cents: 100 },
        { userId: b.id, cents: 200 },
        { userId: c.id, cents: 300 },
      ]);
      expect(outcomes).toEqual(["duplicate", "persisted", "persisted"]);
      expect(transactions).toHaveBeenCalledTimes(1);
    } finally {
      transactions.mockRestore();
    }
    const db = await mysqlPacket(id, [a.id, b.id, c.id]);
    expect(db).toMatchObject({ remainingCount: 2, remainingCents: 400 });
    expect(db.grabs).toEqual([
      { userId: a.id, amountCents: 100 },
      { userId: b.id, amountCents: 200 },
      { userId: c.id, amountCents: 300 },
    ]);
    expect([...db.balances.entries()].sort()).toEqual(
      [
        [a.id, 100],
        [b.id, 200],
        [c.id, 300],
      ].sort(),
    );
  });

  it("goes grab by grab when the packet cannot give the whole batch, so each gets its own outcome", async () => {
    const [creator, a, b, c] = await buildGrabbers(4);
    const { id } = await buildPacket(creator, { amountCents: 1000, count: 3, expiresInSeconds: 120 });
    const outcomes = await persistGrabs(clients.db, id, [
      { userId: a.id, cents: 400 },
      { userId: b.id, cents: 400 },
      { userId: c.id, cents: 400 },
    ]);
    expect(outcomes).toEqual(["persisted", "persisted", "rejected"]);
    const db = await mysqlPacket(id, [c.id]);
    expect(db).toMatchObject({ remainingCount: 1, remainingCents: 200 });
    expect(db.grabs.map((g) => g.userId)).toEqual([a.id, b.id]);
    expect(db.balances.get(c.id)).toBe(0);
  });

  it("persists one user's part once when the batch holds two copies of it (a re-queued item)", async () => {
    const [creator, a] = await buildGrabbers(2);
    const { id } = await buildPacket(creator, { amountCents: 500, count: 2, expiresInSeconds: 120 });
    const twice = { userId: a.id, cents: 250 };
    expect(await persistGrabs(clients.db, id, [twice, twice])).toEqual(["persisted", "duplicate"]);
    const db = await mysqlPacket(id, [a.id]);
    expect(db).toMatchObject({ remainingCount: 1, remainingCents: 250 });
    expect(db.balances.get(a.id)).toBe(250);
  });
});
