import { readiness } from "./readiness";
import type { DependencyReport } from "./service";

const report = (down: string[]): DependencyReport => ({
  instance: "api-1",
  checkedAt: 0,
  checks: Object.fromEntries(
    ["mysqlPrimary", "mysqlReplica1", "redis", "rabbitmq"].map((name) => [
      name,
      down.includes(name) ? { status: "down", latencyMs: 1500, error: "no answer" } : { status: "up", latencyMs: 1 },
    ]),
  ),
});

describe("readiness", () => {
  const table: Array<[label: string, draining: boolean, down: string[], expected: string]> = [
    ["every dependency up", false, ["none"], "ok"],
    ["a MariaDB replica down", false, ["mysqlReplica1"], "ok"],
    ["the MariaDB primary down (reads and Redis-backed routes still work)", false, ["mysqlPrimary"], "ok"],
    ["Redis down", false, ["redis"], "ok"],
    ["RabbitMQ down", false, ["rabbitmq"], "ok"],
    ["everything but RabbitMQ down", false, ["mysqlPrimary", "mysqlReplica1", "redis"], "ok"],
    [
      "no dependency reachable (this replica is cut off)",
      false,
      ["mysqlPrimary", "mysqlReplica1", "redis", "rabbitmq"],
      "isolated",
    ],
    ["shutdown begun, everything up", true, ["none"], "draining"],
    ["shutdown begun, nothing reachable", true, ["mysqlPrimary", "mysqlReplica1", "redis", "rabbitmq"], "draining"],
  ];
  it.each(table.map(([label, draining, down, expected]) => ({ label, draining, down, expected })))(
    "with $label (draining: $draining) is $expected",
    ({ draining, down, expected }) => {
      expect(readiness(draining, report(down))).toBe(expected);
    },
  );

  it("is isolated before the first probe has finished", () => {
    expect(readiness(false, null)).toBe("isolated");
  });
});
