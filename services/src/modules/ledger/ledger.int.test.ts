import { randomUUID } from "node:crypto";
import type { RowDataPacket } from "mysql2";
import { insertUsers } from "../../../../test/support/users";
import { adminToken, call } from "../../../../test/support/api";
import { onPrimary } from "../../../../test/support/db";

const credit = async (userId: number, amountCents: unknown, key: string | null = randomUUID(), token?: string) =>
  call<{ balanceCents?: number; error?: string }>("POST", `/admin/users/${userId}/credits`, {
    token: token ?? (await adminToken()),
    body: { amountCents },
    headers: key === null ? {} : { "idempotency-key": key },
  });

const ledgerRows = (userId: number) =>
  onPrimary(async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT kind, amount_cents, balance_after_cents, operation_id FROM ledger WHERE user_id = ? ORDER BY id",
      [userId],
    );
    return rows.map((r) => ({
      kind: String(r.kind),
      cents: Number(r.amount_cents),
      after: Number(r.balance_after_cents),
      op: String(r.operation_id),
    }));
  });

describe("POST /api/v1/admin/users/:id/credits", () => {
  it("credits the balance with one ledger row and answers the balance after it", async () => {
    const [user] = await insertUsers(1, "ledger");
    const key = randomUUID();
    // The profile is cached from here on; the balance in it must not be.
    expect(await call("GET", "/me", { token: user.token })).toMatchObject({ status: 200, body: { balanceCents: 0 } });
    expect(await credit(user.id, 700, key)).toMatchObject({ status: 201, body: { balanceCents: 700 } });
    expect(await credit(user.id, 300)).toMatchObject({ status: 201, body: { balanceCents: 1000 } });
    expect(await ledgerRows(user.id)).toEqual([
      { kind: "top_up", cents: 700, after: 700, op: `topup:${key}` },
      { kind: "top_up", cents: 300, after: 1000, op: expect.stringMatching(/^topup:/) },
    ]);
    const me = await call<{ balanceCents: number }>("GET", "/me", { token: user.token });
    expect(me).toMatchObject({ status: 200, body: { balanceCents: 1000 } });
  });

  it("credits once for 20 concurrent requests with one Idempotency-Key", async () => {
    const [user] = await insertUsers(1, "ledger");
    const key = randomUUID();
    const token = await adminToken();
    const answers = await Promise.all(Array.from({ length: 20 }, () => credit(user.id, 250, key, token)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    expect(answers.every((a) => a.body.balanceCents === 250)).toBe(true);
    expect(await ledgerRows(user.id)).toHaveLength(1);
  });

  it("refuses the same Idempotency-Key for another user or amount with 409 idempotency_key_reused", async () => {
    const [a, b] = await insertUsers(2, "ledger");
    const key = randomUUID();
    expect((await credit(a.id, 100, key)).status).toBe(201);
    expect(await credit(a.id, 101, key)).toMatchObject({ status: 409, body: { error: "idempotency_key_reused" } });
    expect(await credit(b.id, 100, key)).toMatchObject({ status: 409, body: { error: "idempotency_key_reused" } });
    expect(await ledgerRows(b.id)).toEqual([]);
  });

  it.each([
    ["no Idempotency-Key", 100, null, 400, "validation_failed"],
    ["a zero amount", 0, randomUUID(), 400, "validation_failed"],
    ["a negative amount (a debit in disguise)", -100, randomUUID(), 400, "validation_failed"],
    ["a fractional amount", 1.5, randomUUID(), 400, "validation_failed"],
  ])("refuses %s", async (_, amount, key, status, error) => {
    const [user] = await insertUsers(1, "ledger");
    expect(await credit(user.id, amount, key)).toMatchObject({ status, body: { error } });
    expect(await ledgerRows(user.id)).toEqual([]);
  });

  it("answers 404 for a user that does not exist, and 403 to a non-administrator", async () => {
    const [user] = await insertUsers(1, "ledger");
    expect(await credit(2 ** 40, 100)).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(await credit(user.id, 100, randomUUID(), user.token)).toMatchObject({
      status: 403,
      body: { error: "admin_only" },
    });
    expect(await ledgerRows(user.id)).toEqual([]);
  });
});

describe("GET /api/v1/admin/ledger/conservation", () => {
  it("reports money conserved, and counts an account changed outside the ledger", async () => {
    const token = await adminToken();
    const [user] = await insertUsers(1, "ledger");
    await credit(user.id, 500);
    const before = await call<Record<string, number>>("GET", "/admin/ledger/conservation", { token });
    expect(before).toMatchObject({ status: 200, body: { imbalanceCents: 0, accountsMismatched: 0 } });
    // What LedgerImbalance exists for: a balance changed by hand, behind the ledger's back.
    await onPrimary((conn) => conn.query("UPDATE users SET balance_cents = balance_cents + 1 WHERE id = ?", [user.id]));
    try {
      const after = await call<Record<string, number>>("GET", "/admin/ledger/conservation", { token });
      expect(after.body).toMatchObject({ imbalanceCents: -1, accountsMismatched: 1 });
    } finally {
      await onPrimary((conn) =>
        conn.query("UPDATE users SET balance_cents = balance_cents - 1 WHERE id = ?", [user.id]),
      );
    }
  });
});
