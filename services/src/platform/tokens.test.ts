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
    const [header, payload, signature] = token.split(".");
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
});
