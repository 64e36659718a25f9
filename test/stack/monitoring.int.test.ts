import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "./test-stack";
import { eventually, getJson, testAddresses } from "./clients";

interface Targets {
  data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> };
}

describe("Prometheus and Alertmanager", () => {
  const a = testAddresses();
  const prometheus = `http://${a.prometheus.host}:${a.prometheus.port}`;

  it("scrapes every component and exporter, all up", async () => {
    const workers = a.workers.orders.length + a.workers.redPacketGrabs.length;
    // prom, am, api, tracker, workers, nginx, node, mysqld, redis nodes, redis-exporter, rabbitmq,
    // rabbitmq-queues, backups (the test stack runs no autoscaler)
    const expected = 2 + a.api.length + 1 + workers + 1 + 1 + a.mysqldExporters.length + a.redis.length + 1 + 1 + 1 + 1;
    const targets = await eventually(
      async () => {
        const { body } = await getJson<Targets>(`${prometheus}/api/v1/targets`);
        const active = body.data.activeTargets;
        return active.length === expected && active.every((t) => t.health === "up") ? active : undefined;
      },
      60_000,
      1000,
    );
    const jobs = new Set(targets.map((t) => t.labels.job));
    expect([...jobs].sort()).toEqual([
      "alertmanager",
      "api",
      "backups",
      "mysqld",
      "nginx",
      "node",
      "prometheus",
      "rabbitmq",
      "rabbitmq-queues",
      "redis",
      "redis-exporter",
      "tracker",
      "workers",
    ]);
  });

  it("loads the monitoring rules and fires the Watchdog", async () => {
    const firing = await eventually(
      async () => {
        const { body } = await getJson<{ data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }>(
          `${prometheus}/api/v1/alerts`,
        );
        return body.data.alerts.find((x) => x.labels.alertname === "Watchdog" && x.state === "firing");
      },
      60_000,
      1000,
    );
    expect(firing.labels.alertname).toBe("Watchdog");
    // Every rule file loaded, every rule evaluates without error against the real series.
    const { body } = await getJson<{
      data: { groups: Array<{ file: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
    }>(`${prometheus}/api/v1/rules`);
    const files = new Set(body.data.groups.map((g) => g.file.split("/").pop()));
    expect([...files].sort()).toEqual(fs.readdirSync(path.join(repoRoot, "monitoring", "rules")).sort());
    const unhealthy = body.data.groups.flatMap((g) =>
      g.rules.filter((r) => r.health !== "ok" && r.health !== "unknown"),
    );
    expect(unhealthy).toEqual([]);
  });

  it("runs Alertmanager with the rendered configuration", async () => {
    const { status, body } = await getJson<{ config: { original: string } }>(
      `http://${a.alertmanager.host}:${a.alertmanager.port}/api/v2/status`,
    );
    expect(status).toBe(200);
    expect(body.config.original).toMatch(/receiver: oncall/);
    expect(body.config.original).toMatch(/severity="critical"|severity = critical|severity=critical/);
  });
});
