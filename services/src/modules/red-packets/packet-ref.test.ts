import { formatPacketRef, newPacketToken, parsePacketRef } from "./packet-ref";

describe("packet refs", () => {
  it("round-trips an id and a fresh token", () => {
    const ref = { id: 42, token: newPacketToken() };
    expect(parsePacketRef(formatPacketRef(ref))).toEqual(ref);
  });

  it("makes tokens of 22 base64url characters that do not repeat", () => {
    const tokens = Array.from({ length: 1000 }, newPacketToken);
    expect(tokens.every((t) => /^[A-Za-z0-9_-]{22}$/.test(t))).toBe(true);
    expect(new Set(tokens).size).toBe(1000);
  });

  it.each([
    ["a bare id", "42"],
    ["a short token", "42.abc"],
    ["a token of 23 characters", `42.${"a".repeat(23)}`],
    ["a leading zero", `042.${"a".repeat(22)}`],
    ["a zero id", `0.${"a".repeat(22)}`],
    ["a character outside base64url", `42.${"a".repeat(21)}+`],
    ["a sign", `-4.${"a".repeat(22)}`],
  ])("rejects %s", (_, raw) => {
    expect(parsePacketRef(raw)).toBeNull();
  });
});
