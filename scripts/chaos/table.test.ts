import { at } from "../../test/support/checked";
import { chaosTable } from "./table";
import type { ChaosResult } from "./scenarios";

const result = (id: string, checks: Array<[string, boolean]>, error?: string): ChaosResult => ({
  id,
  title: id,
  seconds: 12.4,
  checks: checks.map(([name, ok]) => ({ name, ok, detail: `${name} detail` })),
  error,
});

describe("chaosTable", () => {
  it("marks each scenario's invariants ok, FAIL or – and lists every violation with its detail", () => {
    const out = chaosTable([
      result("flash-sale/a", [
        ["no oversell", true],
        ["queues drained", false],
      ]),
      result("red-packet/b", [["sums exact", true]]),
    ]);
    const lines = out.split("\n");
    const header = at(lines, 0, "the header");
    const sale = at(lines, 2, "the first row");
    const packet = at(lines, 3, "the second row");
    expect(header.split(/\s+/)).toEqual(["scenario", "took", "A", "B", "C", "result"]);
    expect(sale.split(/\s+/)).toEqual(["flash-sale/a", "12", "s", "ok", "FAIL", "–", "VIOLATED"]);
    expect(packet.split(/\s+/)).toEqual(["red-packet/b", "12", "s", "–", "–", "ok", "held"]);
    expect(out).toContain("  B  queues drained");
    expect(out).toContain("violations:\n  flash-sale/a: queues drained: queues drained detail");
  });

  it("shows a scenario that could not finish as ERR, and says when everything held", () => {
    expect(chaosTable([result("x", [], "stack did not recover")])).toContain(
      "x: could not finish: stack did not recover",
    );
    expect(chaosTable([result("y", [["no oversell", true]])])).toMatch(/every invariant held in every scenario$/);
  });
});
