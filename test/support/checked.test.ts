import { at, exactly, first, present, zip } from "./checked";

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

describe("at", () => {
  const list = ["a", "b", "c"];

  it.each([
    [0, "a"],
    [2, "c"],
    [-1, "c"],
  ])("reads index %d as %s", (index, element) => {
    expect(at(list, index, "a letter")).toBe(element);
  });

  it("keeps falsy elements: only a missing one fails", () => {
    expect(at([0, null, ""], 1, "a value")).toBeNull();
  });

  it.each([
    [3, "expected a letter at index 3, but the list has 3"],
    [-4, "expected a letter at index -4, but the list has 3"],
    [Number.NaN, "expected a letter at an integer index, got NaN"],
    [1.5, "expected a letter at an integer index, got 1.5"],
  ])("refuses index %d, naming what was expected", (index, message) => {
    expect(() => at(list, index, "a letter")).toThrow(message);
  });
});

describe("first", () => {
  it("returns the first element, or fails naming it on an empty list", () => {
    expect(first([7, 8], "the count")).toBe(7);
    expect(() => first([], "the count")).toThrow("expected the count at index 0, but the list has 0");
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
