import { createHmac } from "node:crypto";

const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/**
 * Build an HS256 JWT by hand — independently of the code under test — so tests can forge tokens
 * that are expired, signed with the wrong key, unsigned, or for the wrong audience.
 */
export function forgeToken(
  claims: Record<string, unknown>,
  key: string,
  header: Record<string, unknown> = { alg: "HS256", typ: "JWT" },
): string {
  const unsigned = `${b64(header)}.${b64(claims)}`;
  if (header.alg === "none") return `${unsigned}.`;
  return `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
}

/** Standard valid claims for `userId`, overridable. */
export function claimsFor(userId: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: String(userId),
    role: "user",
    iss: "floodgate",
    aud: "floodgate-api",
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}
