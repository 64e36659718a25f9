import { answerKey, tally } from "./closed";

describe("answerKey", () => {
  it.each([
    [202, '{"requestId":"x"}', "202"],
    [409, '{"error":"sold_out","message":"…"}', "409 sold_out"],
    [502, "<html>bad gateway</html>", "502"],
    [400, "{not json", "400"],
    [410, '{"error":42}', "410"],
  ])("keys a %d answer %s as %s", (status, body, key) => {
    expect(answerKey(status, body)).toBe(key);
  });
});

describe("tally", () => {
  it("counts answers by key and sums the ones the scenario did not expect", () => {
    const seen: number[] = [];
    const t = tally({
      url: "http://127.0.0.1",
      request: () => ({ method: "GET", path: "/" }),
      expected: (key) => key === "202" || key === "409 sold_out",
      onAnswer: (i) => seen.push(i),
    });
    t.record(0, 202, "{}");
    t.record(1, 409, '{"error":"sold_out"}');
    t.record(2, 500, '{"error":"internal"}');
    t.record(3, 409, '{"error":"limit_reached"}');
    expect(t.answers).toEqual({ "202": 1, "409 sold_out": 1, "500 internal": 1, "409 limit_reached": 1 });
    expect(t.unexpected()).toBe(2);
    expect(seen).toEqual([0, 1, 2, 3]);
  });
});
