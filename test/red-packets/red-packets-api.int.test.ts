import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { call } from "../support/api";
import { appClients, bounded, buildGrabbers, buildPacket, drained, grab, mysqlPacket } from "./support";

const clients = appClients();
afterAll(() => clients.close());

describe("POST /api/v1/red-packets", () => {
  it("creates a packet whose parts add up to the amount, grabbable at once", async () => {
    const [creator, user] = await buildGrabbers(2);
    const { ref } = await buildPacket(creator, { amountCents: 500, count: 3, expiresInSeconds: 60 });
    const res = await grab(ref, user);
    expect(res.status).toBe(200);
    expect(res.body.amountCents).toBeGreaterThanOrEqual(1);
    expect(res.body.amountCents).toBeLessThanOrEqual(498);
  });

  it.each([
    ["a count above 10,000", { amountCents: 100_000, count: 10_001, expiresInSeconds: 60 }],
    ["an amount below the count", { amountCents: 9, count: 10, expiresInSeconds: 60 }],
    ["an amount above 100,000,000", { amountCents: 100_000_001, count: 10, expiresInSeconds: 60 }],
    ["a fractional amount", { amountCents: 10.5, count: 1, expiresInSeconds: 60 }],
    ["an expiry under 10 seconds", { amountCents: 100, count: 1, expiresInSeconds: 9 }],
    ["an expiry over a day", { amountCents: 100, count: 1, expiresInSeconds: 86_401 }],
    ["a missing field", { amountCents: 100, count: 1 }],
    ["a creator field (mass assignment)", { amountCents: 100, count: 1, expiresInSeconds: 60, creatorId: 1 }],
    ["a string amount", { amountCents: "100", count: 1, expiresInSeconds: 60 }],
  ])("rejects %s with 400 validation_failed", async (_, body) => {
    const [creator] = await buildGrabbers(1);
    const res = await call("POST", "/red-packets", { token: creator.token, body });
    expect(res).toMatchObject({ status: 400, body: { error: "validation_failed" } });
  });

  it("refuses a request without a token with 401 unauthorized", async () => {
    const res = await call("POST", "/red-packets", { body: { amountCents: 100, count: 1, expiresInSeconds: 60 } });
    expect(res).toMatchObject({ status: 401, body: { error: "unauthorized" } });
  });
});

describe("POST /api/v1/red-packets/:id/grabs", () => {
  it("refuses a second grab by the same user with 409 already_grabbed", async () => {
    const [creator, user] = await buildGrabbers(2);
    const { ref } = await buildPacket(creator, { amountCents: 1000, count: 5, expiresInSeconds: 60 });
    const first = await grab(ref, user);
    expect(first.status).toBe(200);
    const second = await grab(ref, user, 1);
    expect(second).toMatchObject({
      status: 409,
      body: { error: "already_grabbed", details: { amountCents: first.body.amountCents } },
    });
  });

  it("gives one user exactly one part out of 20 parallel grabs", async () => {
    const [creator, user] = await buildGrabbers(2);
    const { id, ref } = await buildPacket(creator, { amountCents: 1000, count: 5, expiresInSeconds: 60 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => grab(ref, user, i)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
    await drained(clients.redis, id);
    expect((await mysqlPacket(id)).grabs).toEqual([
      { userId: user.id, amountCents: answers.find((a) => a.status === 200)!.body.amountCents },
    ]);
  });

  it("answers 404 not_found for an unknown packet and 400 for a malformed id", async () => {
    const [user] = await buildGrabbers(1);
    expect(await grab(`999999999.${"A".repeat(22)}`, user)).toMatchObject({
      status: 404,
      body: { error: "not_found" },
    });
    for (const bad of ["0x1", "42", `42.${"A".repeat(21)}`]) {
      const res = await call("POST", `/red-packets/${bad}/grabs`, { token: user.token });
      expect(res).toMatchObject({ status: 400, body: { error: "validation_failed" } });
    }
  });

  it("cannot be enumerated: a packet's number with another token, or a neighbour's number, is 404", async () => {
    const [creator, user] = await buildGrabbers(2);
    const first = await buildPacket(creator, { amountCents: 100, count: 1, expiresInSeconds: 60 });
    const second = await buildPacket(creator, { amountCents: 100, count: 1, expiresInSeconds: 60 });
    const [, firstToken] = first.ref.split(".");
    const [, secondToken] = second.ref.split(".");
    expect(firstToken).not.toBe(secondToken);
    for (const guess of [
      `${first.id}.${"A".repeat(22)}`,
      `${second.id}.${firstToken}`,
      `${first.id + 2}.${firstToken}`,
    ]) {
      expect(await grab(guess, user)).toMatchObject({ status: 404, body: { error: "not_found" } });
      expect(await call("GET", `/red-packets/${guess}`, { token: user.token })).toMatchObject({ status: 404 });
    }
    expect((await grab(second.ref, user)).status).toBe(200);
  });

  it("lets a packet loaded before tokens existed adopt its token from MySQL on its first grab", async () => {
    const [creator, stranger, user] = await buildGrabbers(3);
    const { id, ref } = await buildPacket(creator, { amountCents: 200, count: 2, expiresInSeconds: 60 });
    const meta = packetKeys(id).meta;
    await clients.redis.hdel(meta, "token"); // as LOAD left packets before migration 002
    expect(await grab(`${id}.${"B".repeat(22)}`, stranger)).toMatchObject({
      status: 404,
      body: { error: "not_found" },
    });
    expect(await clients.redis.hget(meta, "token")).toBeNull();
    expect((await grab(ref, user)).status).toBe(200);
    expect(await clients.redis.hget(meta, "token")).toBe(ref.split(".")[1]);
    expect(await grab(`${id}.${"B".repeat(22)}`, stranger, 1)).toMatchObject({ status: 404 });
  });

  it("refuses a grab without a token with 401 unauthorized", async () => {
    expect(await call("POST", `/red-packets/1.${"A".repeat(22)}/grabs`)).toMatchObject({
      status: 401,
      body: { error: "unauthorized" },
    });
  });

  it("answers 410 empty once every part is taken", async () => {
    const [creator, ...users] = await buildGrabbers(4);
    const { ref } = await buildPacket(creator, { amountCents: 3, count: 3, expiresInSeconds: 60 });
    const answers = await bounded(
      users.map((u, i) => () => grab(ref, u, i)),
      4,
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await grab(ref, creator)).toMatchObject({ status: 410, body: { error: "empty" } });
  });
});

describe("GET /api/v1/red-packets/:id", () => {
  it("shows the amount, what remains and every persisted grab", async () => {
    const [creator, a, b] = await buildGrabbers(3);
    const { id, ref } = await buildPacket(creator, { amountCents: 700, count: 4, expiresInSeconds: 60 });
    const gotA = (await grab(ref, a)).body.amountCents!;
    const gotB = (await grab(ref, b, 1)).body.amountCents!;
    await drained(clients.redis, id);
    const view = await call("GET", `/red-packets/${ref}`, { token: creator.token });
    expect(view).toMatchObject({
      status: 200,
      body: {
        amountCents: 700,
        count: 4,
        remainingCount: 2,
        remainingCents: 700 - gotA - gotB,
        refunded: false,
        grabs: expect.arrayContaining([
          { userId: a.id, amountCents: gotA },
          { userId: b.id, amountCents: gotB },
        ]),
      },
    });
  });

  it("answers 404 not_found for an unknown packet and 401 without a token", async () => {
    const [user] = await buildGrabbers(1);
    expect(await call("GET", `/red-packets/999999999.${"A".repeat(22)}`, { token: user.token })).toMatchObject({
      status: 404,
      body: { error: "not_found" },
    });
    expect((await call("GET", `/red-packets/1.${"A".repeat(22)}`)).status).toBe(401);
  });

  it("shows the grabs to the creator and to grabbers, and not to anyone else holding the id", async () => {
    const [creator, grabber, stranger] = await buildGrabbers(3);
    const { id, ref } = await buildPacket(creator, { amountCents: 300, count: 3, expiresInSeconds: 60 });
    const share = (await grab(ref, grabber)).body.amountCents!;
    await drained(clients.redis, id);
    const grabs = [{ userId: grabber.id, amountCents: share }];
    for (const insider of [creator, grabber]) {
      const view = await call("GET", `/red-packets/${ref}`, { token: insider.token });
      expect(view).toMatchObject({ status: 200, body: { amountCents: 300, remainingCount: 2, grabs } });
    }
    const outside = await call("GET", `/red-packets/${ref}`, { token: stranger.token });
    expect(outside).toMatchObject({ status: 200, body: { amountCents: 300, remainingCount: 2 } });
    expect(outside.body).not.toHaveProperty("grabs");
  });
});
