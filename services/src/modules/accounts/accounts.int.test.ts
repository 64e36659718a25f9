import { buildUser, call, replicaBase, uniqueName } from "../../../../test/support/api";
import { claimsFor, forgeToken } from "../../../../test/support/tokens";
import { testTopology } from "../../../../test/stack/test-stack";

describe("POST /api/v1/users", () => {
  it("creates an account and answers 201 with the user", async () => {
    const username = uniqueName();
    const res = await call("POST", "/users", { body: { username, password: "correct horse battery" } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), username, role: "user" });
  });

  it("refuses a second account with the same username with 409 username_taken", async () => {
    const user = await buildUser();
    const res = await call("POST", "/users", { body: { username: user.username, password: "another password" } });
    expect(res).toMatchObject({ status: 409, body: { error: "username_taken" } });
  });

  it.each([
    ["a short password", { username: uniqueName(), password: "short" }],
    ["an invalid username", { username: "Bad Name!", password: "long enough password" }],
    ["a missing password", { username: uniqueName() }],
    [
      "a privileged field (mass assignment)",
      { username: uniqueName(), password: "long enough password", role: "admin" },
    ],
    ["a non-object body", ["username", "password"]],
  ])("rejects %s with 400 validation_failed", async (_, body) => {
    const res = await call("POST", "/users", { body });
    expect(res).toMatchObject({ status: 400, body: { error: "validation_failed" } });
  });

  it("rejects malformed JSON with 400 invalid_json and a non-JSON body with 415", async () => {
    expect(await call("POST", "/users", { rawBody: "{nope" })).toMatchObject({
      status: 400,
      body: { error: "invalid_json" },
    });
    const form = await call("POST", "/users", {
      rawBody: "a=b",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    expect(form.body).toMatchObject({ error: "unsupported_media_type" });
  });

  it("rejects a body over the size limit with 413 before the API sees it", async () => {
    const res = await call("POST", "/users", { rawBody: JSON.stringify({ username: "x".repeat(200_000) }) });
    expect(res.status).toBe(413);
  });
});

describe("POST /api/v1/sessions", () => {
  it("issues a bearer token for the right password", async () => {
    const user = await buildUser();
    const res = await call("POST", "/sessions", { body: { username: user.username, password: user.password } });
    expect(res).toMatchObject({
      status: 200,
      body: { tokenType: "Bearer", expiresIn: testTopology().api.tokenTtlSeconds },
    });
  });

  it("answers 401 invalid_credentials alike for a wrong password and an unknown user", async () => {
    const user = await buildUser();
    const wrong = await call("POST", "/sessions", { body: { username: user.username, password: "not the password" } });
    const unknown = await call("POST", "/sessions", { body: { username: uniqueName(), password: "whatever12345" } });
    expect(wrong).toMatchObject({ status: 401, body: { error: "invalid_credentials" } });
    expect(unknown.body).toEqual(wrong.body);
  });

  it("lets the seeded administrator log in", async () => {
    const { username, password } = testTopology().api.admin;
    expect((await call("POST", "/sessions", { body: { username, password } })).status).toBe(200);
  });
});

describe("bearer tokens", () => {
  const secret = testTopology().api.jwtSecret;

  it.each([
    ["expired", "token_expired", () => forgeToken(claimsFor(1, { exp: Math.floor(Date.now() / 1000) - 10 }), secret)],
    [
      "signed with another key",
      "invalid_token",
      () => forgeToken(claimsFor(1), "another-key-another-key-another-key!"),
    ],
    ["unsigned (alg none)", "invalid_token", () => forgeToken(claimsFor(1), secret, { alg: "none", typ: "JWT" })],
    ["for another audience", "invalid_token", () => forgeToken(claimsFor(1, { aud: "someone-else" }), secret)],
    ["from another issuer", "invalid_token", () => forgeToken(claimsFor(1, { iss: "evil" }), secret)],
    ["with a role the issuer never gives", "invalid_token", () => forgeToken(claimsFor(1, { role: "root" }), secret)],
    ["that is garbage", "invalid_token", () => "not.a.token"],
  ])("refuses a token %s with 401 %s", async (_, id, token) => {
    const res = await call("GET", "/me", { token: token() });
    expect(res).toMatchObject({ status: 401, body: { error: id } });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("refuses a request without a token with 401 unauthorized", async () => {
    expect(await call("GET", "/me")).toMatchObject({ status: 401, body: { error: "unauthorized" } });
  });
});

// Per-minute budgets are counted in fixed windows (epoch minutes): a run that crossed a boundary
// would get two budgets. Start right after one when less than `needMs` of this window is left.
async function withinOneWindow(needMs = 40_000): Promise<void> {
  const leftMs = 60_000 - (Date.now() % 60_000);
  if (leftMs < needMs) await new Promise((r) => setTimeout(r, leftMs + 100));
}

describe("login rate limit", () => {
  it("answers 429 rate_limited with Retry-After once a client address spends its per-minute budget", async () => {
    // One client address of its own (the API trusts X-Forwarded-For because only nginx reaches it,
    // and nginx overwrites the header with $remote_addr).
    const headers = { "x-forwarded-for": `198.51.100.${Math.floor(Math.random() * 250) + 1}` };
    const budget = testTopology().api.rateLimits.loginsPerMinutePerIp;
    await withinOneWindow();
    const statuses: number[] = [];
    for (let i = 0; i < budget + 1; i += 50) {
      const batch = Array.from({ length: Math.min(50, budget + 1 - i) }, () =>
        call("POST", "/sessions", { body: {}, headers, base: replicaBase(i % 2) }).then((r) => r.status),
      );
      statuses.push(...(await Promise.all(batch)));
    }
    expect(statuses.filter((s) => s === 400)).toHaveLength(budget);
    const limited = await call("POST", "/sessions", { body: {}, headers, base: replicaBase(1) });
    expect(limited).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("sign-up rate limit", () => {
  it("answers 429 rate_limited with Retry-After once a client address spends its per-minute sign-up budget", async () => {
    // Malformed sign-ups count too (the limit runs before validation), and cost no password hash.
    const headers = { "x-forwarded-for": `203.0.113.${Math.floor(Math.random() * 250) + 1}` };
    const budget = testTopology().api.rateLimits.signupsPerMinutePerIp;
    await withinOneWindow();
    const statuses: number[] = [];
    for (let i = 0; i < budget; i += 50) {
      const batch = Array.from({ length: Math.min(50, budget - i) }, () =>
        call("POST", "/users", { body: {}, headers, base: replicaBase(i % 2) }).then((r) => r.status),
      );
      statuses.push(...(await Promise.all(batch)));
    }
    expect(statuses.filter((s) => s === 400)).toHaveLength(budget);
    const limited = await call("POST", "/users", {
      body: { username: uniqueName(), password: "correct horse battery" },
      headers,
      base: replicaBase(1),
    });
    expect(limited).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another address is not affected.
    const other = { "x-forwarded-for": `203.0.113.${(Number(headers["x-forwarded-for"].split(".")[3]) % 250) + 2}` };
    expect((await call("POST", "/users", { body: {}, headers: other })).status).toBe(400);
  });
});
