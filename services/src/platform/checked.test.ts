import { at, first, zip } from "./checked";

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
  it("returns the first row, or fails naming it when there is none", () => {
    expect(first([{ n: 7 }, { n: 8 }], "the count")).toEqual({ n: 7 });
    expect(() => first([], "the count")).toThrow("expected the count at index 0, but the list has 0");
  });
});

describe("zip", () => {
  it("pairs two lists of one length by index", () => {
    expect(zip(["a", "b"], [1, 2], "letters and numbers")).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });

  it("refuses lists of different lengths, naming them", () => {
    expect(() => zip(["a", "b"], [1], "messages and outcomes")).toThrow(
      "expected messages and outcomes to pair up, got 2 and 1",
    );
  });
});
