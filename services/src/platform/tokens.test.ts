import { createSigner, type SignerOptions } from "fast-jwt";
import { exactly } from "../../../test/support/checked";
import { Tokens } from "./tokens";

const SECRET = "a-test-secret-of-at-least-32-characters!";

describe("Tokens", () => {
  it("verifies a token it issued, again and again (the second time from its cache)", async () => {
    const tokens = new Tokens(SECRET, 600);
    const { token } = await tokens.issue({ userId: 42, role: "user" });
    expect(await tokens.verify(token)).toEqual({ userId: 42, role: "user" });
    expect(await tokens.verify(token)).toEqual({ userId: 42, role: "user" });
  });

  it("refuses a token whose payload was changed after a valid one was verified", async () => {
    const tokens = new Tokens(SECRET, 600);
    const { token } = await tokens.issue({ userId: 42, role: "user" });
    await tokens.verify(token);
    const [header, payload, signature] = exactly(token.split("."), 3, "parts of the token");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: "admin" })).toString("base64url");
    await expect(tokens.verify(`${header}.${forged}.${signature}`)).rejects.toMatchObject({ id: "invalid_token" });
  });

  it("refuses a cached token once it has expired", async () => {
    jest.useFakeTimers({ now: Date.now(), doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
    try {
      const tokens = new Tokens(SECRET, 60);
      const { token } = await tokens.issue({ userId: 7, role: "admin" });
      expect(await tokens.verify(token)).toEqual({ userId: 7, role: "admin" });
      jest.setSystemTime(Date.now() + 61_000);
      await expect(tokens.verify(token)).rejects.toMatchObject({ id: "token_expired" });
    } finally {
      jest.useRealTimers();
    }
  });

  it("refuses a token signed with another key even after the real one was cached", async () => {
    const tokens = new Tokens(SECRET, 600);
    const other = new Tokens("another-secret-of-at-least-32-characters", 600);
    await tokens.verify((await tokens.issue({ userId: 1, role: "user" })).token);
    await expect(tokens.verify((await other.issue({ userId: 1, role: "user" })).token)).rejects.toMatchObject({
      id: "invalid_token",
    });
  });

  // The pins, each on a token this process has never seen (so the signature check decides, not the cache).
  const forge = (options: Partial<SignerOptions & { key: string }>, payload: Record<string, unknown> = {}) =>
    createSigner<Record<string, unknown>>(options)({ sub: "5", role: "user", ...payload });
  const pinned = {
    key: SECRET,
    algorithm: "HS256" as const,
    iss: "floodgate",
    aud: "floodgate-api",
    expiresIn: 60_000,
  };

  it("accepts a first-seen token carrying every pinned claim (the forging below changes one thing each)", async () => {
    await expect(new Tokens(SECRET, 600).verify(forge(pinned))).resolves.toEqual({ userId: 5, role: "user" });
  });

  it.each([
    ["an unsigned token (alg none)", forge({ ...pinned, algorithm: "none", key: undefined })],
    ["another algorithm (HS512)", forge({ ...pinned, algorithm: "HS512" })],
    ["another issuer", forge({ ...pinned, iss: "someone-else" })],
    ["another audience", forge({ ...pinned, aud: "another-api" })],
    ["no expiry", forge({ ...pinned, expiresIn: undefined })],
    ["a subject that is not a user id", forge(pinned, { sub: "admin" })],
    ["an unknown role", forge(pinned, { role: "root" })],
  ])("refuses %s as invalid_token", async (_what, token) => {
    await expect(new Tokens(SECRET, 600).verify(token)).rejects.toMatchObject({ id: "invalid_token" });
  });

  it("answers token_expired for an expired token it has never seen", async () => {
    const expired = forge({ ...pinned, clockTimestamp: Date.now() - 120_000 });
    await expect(new Tokens(SECRET, 600).verify(expired)).rejects.toMatchObject({ id: "token_expired" });
  });
});
