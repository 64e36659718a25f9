import { formatTable } from "./text-table";

describe("formatTable", () => {
  it("aligns each column to its widest cell under a rule as wide, trimming each line's end", () => {
    expect(
      formatTable(
        ["name", "state"],
        [
          ["redis-1", "running"],
          ["api-12", "stopped"],
        ],
      ),
    ).toBe(["name     state", "-------  -------", "redis-1  running", "api-12   stopped"].join("\n"));
  });

  it("leaves a cell past the header's columns unpadded, and an empty table its header and rule", () => {
    expect(formatTable(["a"], [["x", "extra"]])).toBe(["a", "-", "x  extra"].join("\n"));
    expect(formatTable(["only"], [])).toBe("only\n----");
  });
});
