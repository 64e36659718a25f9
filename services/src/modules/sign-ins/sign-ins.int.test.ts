import type { RowDataPacket } from "mysql2";
import { buildUser, call, replicaBase, type TestUser } from "../../../../test/support/api";
import { first } from "../../../../test/support/checked";
import { mysqlAs, testAddresses } from "../../../../test/stack/clients";
import { testTopology } from "../../../../test/stack/test-stack";
import { claimsFor, forgeToken } from "../../../../test/support/tokens";

interface SignInAnswer {
  day: string;
  streak: number;
  alreadySignedIn: boolean;
}
interface HistoryAnswer {
  currentStreak: number;
  items: Array<{ day: string; streak: number }>;
}

/** The UTC calendar day `daysAgo` days before now, "YYYY-MM-DD". */
const dayAgo = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

/**
 * Arrange past sign-ins straight in MySQL (as the migrator, on the primary) and wait until every
 * replica has them, so the API's first read of this user's history cannot miss them.
 */
async function insertPastSignIns(userId: number, days: Array<[daysAgo: number, streak: number]>): Promise<void> {
  const a = testAddresses();
  const primary = await mysqlAs("migrator", a.mysqlPrimary);
  try {
    for (const [ago, streak] of days)
      await primary.query("INSERT INTO sign_ins (user_id, day, streak) VALUES (?, ?, ?)", [
        userId,
        dayAgo(ago),
        streak,
      ]);
    const [gtids] = await primary.query<RowDataPacket[]>("SELECT @@last_gtid AS gtid");
    const { gtid } = first(gtids, "@@last_gtid");
    for (const server of a.mysqlReplicas) {
      const replica = await mysqlAs("app", server);
      try {
        const [waits] = await replica.query<RowDataPacket[]>("SELECT MASTER_GTID_WAIT(?, 10) AS w", [gtid]);
        const { w } = first(waits, "MASTER_GTID_WAIT's answer");
        if (Number(w) !== 0) throw new Error(`replica ${server.port} did not reach ${gtid}`);
      } finally {
        await replica.end();
      }
    }
  } finally {
    await primary.end();
  }
}

async function rowsInDb(userId: number): Promise<number> {
  const primary = await mysqlAs("migrator", testAddresses().mysqlPrimary);
  try {
    const [counts] = await primary.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM sign_ins WHERE user_id = ?", [
      userId,
    ]);
    return Number(first(counts, "the count of sign-ins").n);
  } finally {
    await primary.end();
  }
}

const signIn = (user: TestUser) => call<SignInAnswer>("POST", "/sign-ins", { token: user.token });
const history = (user: TestUser, query = "", base?: string) =>
  call<HistoryAnswer>("GET", `/sign-ins${query}`, { token: user.token, base });

describe("POST /api/v1/sign-ins", () => {
  it("signs in for today (UTC) with 201 and a streak of 1 the first time", async () => {
    const user = await buildUser();
    const res = await signIn(user);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ day: dayAgo(0), streak: 1, alreadySignedIn: false });
  });

  it("answers a repeat the same day with 200, the same day and streak and alreadySignedIn true", async () => {
    const user = await buildUser();
    const first = await signIn(user);
    const again = await signIn(user);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ day: first.body.day, streak: first.body.streak, alreadySignedIn: true });
  });

  it("records exactly one sign-in when one user sends 30 at once: one 201, 29 200, one streak", async () => {
    const user = await buildUser();
    await insertPastSignIns(user.id, [[1, 7]]);
    const answers = await Promise.all(Array.from({ length: 30 }, () => signIn(user)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(29);
    expect(new Set(answers.map((a) => `${a.body.day}/${a.body.streak}`))).toEqual(new Set([`${dayAgo(0)}/8`]));
    expect(await rowsInDb(user.id)).toBe(2); // yesterday's, arranged, and today's
  });

  it("continues yesterday's streak", async () => {
    const user = await buildUser();
    await insertPastSignIns(user.id, [
      [2, 3],
      [1, 4],
    ]);
    expect((await signIn(user)).body).toMatchObject({ streak: 5, alreadySignedIn: false });
  });

  it("starts again at 1 after a day without a sign-in", async () => {
    const user = await buildUser();
    await insertPastSignIns(user.id, [[2, 9]]);
    expect((await signIn(user)).body).toMatchObject({ streak: 1 });
  });

  it("refuses a request without a token with 401 unauthorized", async () => {
    expect(await call("POST", "/sign-ins")).toMatchObject({ status: 401, body: { error: "unauthorized" } });
  });

  it("answers 404 not_found, not a 5xx, for a valid token whose user does not exist", async () => {
    const token = forgeToken(claimsFor(2 ** 50), testTopology().api.jwtSecret);
    expect(await call("POST", "/sign-ins", { token })).toMatchObject({ status: 404, body: { error: "not_found" } });
  });
});

describe("GET /api/v1/sign-ins", () => {
  it("answers an empty history and a current streak of 0 for a user who never signed in", async () => {
    const user = await buildUser();
    expect(await history(user)).toMatchObject({ status: 200, body: { currentStreak: 0, items: [] } });
  });

  it("lists the history newest first with today's streak as the current streak", async () => {
    const user = await buildUser();
    await insertPastSignIns(user.id, [
      [3, 1],
      [2, 2],
      [1, 3],
    ]);
    await signIn(user);
    expect((await history(user)).body).toEqual({
      currentStreak: 4,
      items: [
        { day: dayAgo(0), streak: 4 },
        { day: dayAgo(1), streak: 3 },
        { day: dayAgo(2), streak: 2 },
        { day: dayAgo(3), streak: 1 },
      ],
    });
  });

  it("keeps yesterday's streak current until the user misses today", async () => {
    const user = await buildUser();
    await insertPastSignIns(user.id, [
      [2, 5],
      [1, 6],
    ]);
    expect((await history(user)).body.currentStreak).toBe(6);
  });

  it("reports a current streak of 0 once a whole day was missed", async () => {
    const user = await buildUser();
    await insertPastSignIns(user.id, [[2, 3]]);
    expect((await history(user)).body).toEqual({ currentStreak: 0, items: [{ day: dayAgo(2), streak: 3 }] });
  });

  it("returns the newest 30 days by default and the newest `limit` days when asked", async () => {
    const user = await buildUser();
    await insertPastSignIns(
      user.id,
      Array.from({ length: 35 }, (_, i): [number, number] => [35 - i, i + 1]),
    );
    const byDefault = (await history(user)).body.items;
    expect(byDefault).toHaveLength(30);
    expect(byDefault[0]).toEqual({ day: dayAgo(1), streak: 35 });
    expect((await history(user, "?limit=3")).body.items.map((i) => i.streak)).toEqual([35, 34, 33]);
    expect((await history(user, "?limit=100")).body.items).toHaveLength(35);
  });

  it.each(["0", "101", "x", "-1", "1.5", ""])("rejects limit=%p with 400 validation_failed", async (limit) => {
    const user = await buildUser();
    const res = await history(user, `?limit=${limit}`);
    expect(res).toMatchObject({ status: 400, body: { error: "validation_failed" } });
  });

  it("refuses a request without a token with 401 unauthorized", async () => {
    expect(await call("GET", "/sign-ins")).toMatchObject({ status: 401, body: { error: "unauthorized" } });
  });

  it("shows a new sign-in at once on every API replica, even where the old history was cached", async () => {
    const user = await buildUser();
    const replicas = testTopology().api.replicas;
    for (let i = 0; i < replicas; i++) expect((await history(user, "", replicaBase(i))).body.items).toEqual([]);

    await signIn(user);

    for (let i = 0; i < replicas; i++) {
      expect((await history(user, "", replicaBase(i))).body).toEqual({
        currentStreak: 1,
        items: [{ day: dayAgo(0), streak: 1 }],
      });
    }
  });
});
