import { randomUUID } from "node:crypto";
import type { RowDataPacket } from "mysql2";
import { readConservation } from "../../services/src/modules/ledger/conservation";
import { refundPacket } from "../../services/src/modules/red-packets/refund";
import { eventually } from "../stack/clients";
import { testAddresses } from "../stack/test-stack";
import { call } from "../support/api";
import { onPrimary } from "../support/db";
import { appClients, bounded, buildGrabbers, buildPacket, drained, fund, grab, type Grabber } from "./support";
import { zip } from "../support/checked";

const clients = appClients();
afterAll(() => clients.close());

const create = (creator: Grabber, body: Record<string, unknown>, key: string | null = randomUUID()) =>
  call<{ id?: string; error?: string }>("POST", "/red-packets", {
    token: creator.token,
    body,
    headers: key === null ? {} : { "idempotency-key": key },
  });
const balanceOf = async (user: Grabber) =>
  (await call<{ balanceCents: number }>("GET", "/me", { token: user.token })).body.balanceCents;

/** Each user's balance beside the sum of their ledger rows, and the count of their packets. */
const accounts = (userIds: number[]) =>
  onPrimary(async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT u.id, u.balance_cents AS balance, COALESCE(SUM(l.amount_cents), 0) AS ledger, COUNT(l.id) AS movements,
              (SELECT COUNT(*) FROM red_packets p WHERE p.creator_id = u.id) AS packets
         FROM users u LEFT JOIN ledger l ON l.user_id = u.id WHERE u.id IN (?) GROUP BY u.id`,
      [userIds],
    );
    return new Map(
      rows.map((r) => [
        Number(r.id),
        {
          balance: Number(r.balance),
          ledger: Number(r.ledger),
          movements: Number(r.movements),
          packets: Number(r.packets),
        },
      ]),
    );
  });

describe("red packets are paid for", () => {
  it("refuses a packet larger than the balance with 409 insufficient_balance and debits nothing", async () => {
    const [creator] = await buildGrabbers(1);
    await fund(creator, 1000);
    const res = await create(creator, { amountCents: 1001, count: 2, expiresInSeconds: 60 });
    expect(res).toMatchObject({ status: 409, body: { error: "insufficient_balance" } });
    expect(await balanceOf(creator)).toBe(1000);
    expect((await accounts([creator.id])).get(creator.id)).toEqual({
      balance: 1000,
      ledger: 1000,
      movements: 1,
      packets: 0,
    });
  });

  it("debits the creator in the packet's transaction, with a ledger row", async () => {
    const [creator] = await buildGrabbers(1);
    await fund(creator, 1000);
    expect(await balanceOf(creator)).toBe(1000); // and the profile is cached from here on
    expect((await create(creator, { amountCents: 600, count: 3, expiresInSeconds: 60 })).status).toBe(201);
    expect(await balanceOf(creator)).toBe(400);
    expect((await accounts([creator.id])).get(creator.id)).toEqual({
      balance: 400,
      ledger: 400,
      movements: 2,
      packets: 1,
    });
  });

  it("makes one packet and one debit out of 50 concurrent creates with one Idempotency-Key", async () => {
    const [creator] = await buildGrabbers(1);
    await fund(creator, 5000);
    const key = randomUUID();
    const body = { amountCents: 3000, count: 10, expiresInSeconds: 60 };
    // Each caller does what a 503 asks (on a busy machine a lock wait or Redis can time out): waits
    // Retry-After and asks again with the same key. Its last answer counts.
    let retried = 0;
    const createUntilKnown = async () => {
      for (let attempt = 1; ; attempt++) {
        const a = await create(creator, body, key);
        if (a.status !== 503 || attempt === 5) return a;
        retried++;
        await new Promise((r) => setTimeout(r, 1000 * Number(a.headers.get("retry-after") ?? 1)));
      }
    };
    const answers = await Promise.all(Array.from({ length: 50 }, createUntilKnown));
    const tally: Record<string, number> = {};
    for (const a of answers) tally[a.status] = (tally[a.status] ?? 0) + 1;
    // One 201, unless the creating call's answer was a 503 (its retry is a replay: 200).
    expect(tally).toEqual(retried === 0 ? { 201: 1, 200: 49 } : expect.objectContaining({ 200: expect.any(Number) }));
    expect((tally[200] ?? 0) + (tally[201] ?? 0)).toBe(50);
    expect(tally[201] ?? 0).toBeLessThanOrEqual(1);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect((await accounts([creator.id])).get(creator.id)).toEqual({
      balance: 2000,
      ledger: 2000,
      movements: 2,
      packets: 1,
    });
  });

  it("refuses the same Idempotency-Key with another body (409 idempotency_key_reused) and a create without one (400)", async () => {
    const [creator] = await buildGrabbers(1);
    await fund(creator, 5000);
    const key = randomUUID();
    expect((await create(creator, { amountCents: 1000, count: 2, expiresInSeconds: 60 }, key)).status).toBe(201);
    expect(await create(creator, { amountCents: 1000, count: 3, expiresInSeconds: 60 }, key)).toMatchObject({
      status: 409,
      body: { error: "idempotency_key_reused" },
    });
    expect(await create(creator, { amountCents: 1000, count: 2, expiresInSeconds: 60 }, null)).toMatchObject({
      status: 400,
      body: { error: "validation_failed" },
    });
    expect(await balanceOf(creator)).toBe(4000);
  });

  it("conserves every cent through a grab storm and the expiry refund: balances equal their ledgers", async () => {
    const [creator, ...grabbers] = await buildGrabbers(61);
    const amount = 12_345;
    const { id, ref } = await buildPacket(creator, { amountCents: amount, count: 40, expiresInSeconds: 10 });
    const answers = await bounded(
      grabbers.map((g, i) => () => grab(ref, g, i)),
      20,
    );
    const told = new Map(
      zip(grabbers, answers).flatMap(([g, answer]) =>
        answer.status === 200 ? [[g.id, answer.body.amountCents!]] : [],
      ),
    );
    expect(told.size).toBe(40);
    await drained(clients.redis, id);
    const expiresAtMs = Date.now() + 10_500;
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAtMs - Date.now())));
    await refundPacket({ db: clients.db, store: clients.store }, id); // or the workers' upkeep got there first

    const after = await accounts([creator.id, ...grabbers.map((g) => g.id)]);
    for (const [userId, account] of after)
      expect({ userId, ...account, ledger: account.balance }).toEqual({ userId, ...account });
    for (const g of grabbers) expect(after.get(g.id)!.balance).toBe(told.get(g.id) ?? 0);
    const grabbed = [...told.values()].reduce((a, b) => a + b, 0);
    expect(after.get(creator.id)!.balance).toBe(amount - grabbed);
    const totals = await onPrimary(async (conn) => {
      await conn.beginTransaction();
      try {
        return await readConservation(conn);
      } finally {
        await conn.commit();
      }
    });
    expect(totals).toMatchObject({ imbalanceCents: 0, accountsMismatched: 0 });
  });
});

describe("the conservation check", () => {
  it("runs in every red-packet worker and exports its figures (what LedgerImbalance watches)", async () => {
    for (const { port } of testAddresses().workers.redPacketGrabs) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      // Every series carries the process's default label (instance_id).
      const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1]);
      expect(Number.isFinite(value("floodgate_ledger_imbalance_cents"))).toBe(true);
      expect(Number.isFinite(value("floodgate_ledger_accounts_mismatched"))).toBe(true);
      // Checked at start and every minute since. A check that failed (another test froze or killed
      // the primary within the minute) leaves the last success in place, so wait for the next one.
      await eventually(
        async () => {
          const latest = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          const at = Number(/^floodgate_ledger_checked_timestamp_seconds(?:\{[^}]*\})? (\S+)$/m.exec(latest)?.[1]);
          const age = Date.now() / 1000 - at;
          if (age < 90) return true;
          throw new Error(`the last conservation check on port ${port} was ${age.toFixed(0)} s ago`);
        },
        75_000,
        2000,
      );
    }
  }, 180_000);
});
