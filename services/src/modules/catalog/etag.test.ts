import { ifNoneMatch } from "./etag";

describe("ifNoneMatch", () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ["", false],
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ["*", true],
    ['"abcd"', false],
    ["abc", false],
  ])('If-None-Match %j matches the ETag "abc": %s', (header, expected) => {
    expect(ifNoneMatch(header, '"abc"')).toBe(expected);
  });
});
