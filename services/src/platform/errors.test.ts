import { ConflictError, HttpError, UnavailableError } from "./errors";

describe("HttpError", () => {
  it("carries no stack frames for a 4xx (an answer, not a fault) and leaves the process's stack depth as it was", () => {
    const depth = Error.stackTraceLimit;
    const err = ConflictError("sold_out", "the sale is sold out");
    expect(err.stack).toBe("HttpError: the sale is sold out");
    expect(Error.stackTraceLimit).toBe(depth);
    expect(new Error("x").stack).toMatch(/\n\s+at /);
  });

  it("keeps the stack of a 5xx", () => {
    expect(UnavailableError().stack).toMatch(/\n\s+at /);
    expect(new HttpError(500, "internal", "boom").stack).toMatch(/\n\s+at /);
  });
});
