import { exactly, present, zip } from "./checked";

// at and first are the services' own, tested in services/src/platform/checked.test.ts.

describe("exactly", () => {
  it("returns the list when it holds exactly n elements, destructurable without checks", () => {
    const [a, b] = exactly(["x", "y"], 2, "users");
    expect(`${a}${b}`).toBe("xy");
  });

  it.each([
    [["x"], 2, "expected 2 users, got 1"],
    [["x", "y", "z"], 2, "expected 2 users, got 3"],
  ])("refuses %j for n = %d", (list, n, message) => {
    expect(() => exactly(list, n, "users")).toThrow(message);
  });
});

describe("zip", () => {
  it("pairs two lists of one length by index", () => {
    expect(zip(["a", "b"], [1, 2])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });

  it("keeps elements that are themselves undefined or null", () => {
    expect(zip([1, 2], [undefined, null])).toEqual([
      [1, undefined],
      [2, null],
    ]);
  });

  it("refuses lists of different lengths", () => {
    expect(() => zip(["a", "b"], [1])).toThrow("expected the two lists to pair up, got 2 and 1");
  });
});

describe("present", () => {
  it.each([0, "", false])("returns %j: present, if falsy", (value) => {
    expect(present(value, "a value")).toBe(value);
  });

  it.each([undefined, null])("refuses %s, naming what was expected", (value) => {
    expect(() => present(value, "the S3rver options")).toThrow(`expected the S3rver options, got ${value}`);
  });
});
