import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Autoscaler, SIGNAL_TTL_MS, type Actuator } from "./controller";
import { autoscalerServer } from "./server";

class CountingActuator implements Actuator {
  constructor(public n: number) {}
  async running() {
    return this.n;
  }
  async scaleTo(n: number) {
    this.n = n;
  }
}

const notification = (dir: "out" | "in", status: "firing" | "resolved") => ({
  version: "4",
  status,
  alerts: [{ status, labels: { alertname: dir === "out" ? "ApiScaleOut" : "ApiScaleIn", autoscale: dir } }],
});

/** A stand-in for Prometheus's /api/v1/alerts with these autoscale alerts firing; null: it answers 503. */
async function withPrometheus(firing: Array<"out" | "in"> | null, fn: (url: string) => Promise<void>) {
  const server = http.createServer((req, res) => {
    if (firing === null || req.url !== "/api/v1/alerts") return void res.writeHead(503).end();
    const alerts = [
      ...firing.map((autoscale) => ({ state: "firing", labels: { alertname: "x", autoscale } })),
      { state: "pending", labels: { alertname: "y", autoscale: "out" } },
      { state: "firing", labels: { alertname: "Watchdog" } },
    ];
    res.writeHead(200).end(JSON.stringify({ status: "success", data: { alerts } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}

const settings = (prometheusUrl: string) => ({
  min: 2,
  max: 4,
  cooldownSeconds: 10,
  scaleOutCpuPercent: 75,
  scaleInCpuPercent: 25,
  scaleOutP99Ms: 200,
  prometheusUrl,
});
const silent = pino({ level: "silent" });

describe("Autoscaler", () => {
  it("steps out on a firing ApiScaleOut, a cooldown apart, and stops when it resolves", async () => {
    await withPrometheus(["out"], async (url) => {
      let now = 0;
      const actuator = new CountingActuator(2);
      const a = new Autoscaler(settings(url), actuator, silent, () => now);
      a.onWebhook(notification("out", "firing"));
      expect((await a.tick())?.action).toBe("out");
      now = 5_000;
      expect(await a.tick()).toMatchObject({ action: "hold", reason: "cooldown" });
      now = 10_000;
      expect((await a.tick())?.desired).toBe(4);
      now = 30_000;
      expect(await a.tick()).toMatchObject({ action: "hold", reason: "at_max" });
      a.onWebhook(notification("out", "resolved"));
      expect(await a.tick()).toMatchObject({ action: "hold", reason: "no_signal" });
      expect(actuator.n).toBe(4);
    });
  });

  it("holds while Prometheus is unreachable", async () => {
    await withPrometheus(null, async (url) => {
      const actuator = new CountingActuator(3);
      const a = new Autoscaler(settings(url), actuator, silent);
      a.onWebhook(notification("in", "firing"));
      expect(await a.tick()).toMatchObject({ action: "hold", reason: "prometheus_unreachable" });
      expect(actuator.n).toBe(3);
    });
  });

  it("holds on a signal Prometheus does not confirm, and on one Alertmanager stopped repeating", async () => {
    await withPrometheus(["in"], async (url) => {
      let now = 0;
      const actuator = new CountingActuator(3);
      const a = new Autoscaler(settings(url), actuator, silent, () => now);
      a.onWebhook(notification("out", "firing"));
      expect(await a.tick()).toMatchObject({ action: "hold", reason: "unconfirmed" });
      a.onWebhook(notification("out", "resolved"));
      a.onWebhook(notification("in", "firing"));
      now = SIGNAL_TTL_MS;
      expect(await a.tick()).toMatchObject({ action: "hold", reason: "alertmanager_silent" });
      expect(actuator.n).toBe(3);
    });
  });

  it("scales to an on-call override within min/max and refuses one outside", async () => {
    const actuator = new CountingActuator(2);
    const a = new Autoscaler(settings("http://127.0.0.1:1"), actuator, silent);
    expect(await a.scaleTo(4)).toEqual({ running: 4 });
    await expect(a.scaleTo(5)).rejects.toThrow("replicas = 5: must be an integer in [2, 4]");
    expect(actuator.n).toBe(4);
  });
});

describe("autoscalerServer", () => {
  async function serve() {
    const actuator = new CountingActuator(2);
    const server = autoscalerServer(new Autoscaler(settings("http://127.0.0.1:1"), actuator, silent));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { actuator, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }
  const post = (url: string, body: string) => fetch(url, { method: "POST", body });

  it("answers a malformed notification with 400 invalid_notification and exports its thresholds", async () => {
    const { server, base } = await serve();
    for (const body of ['{"version":"3"}', "not json"]) {
      const bad = await post(`${base}/alerts`, body);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: "invalid_notification" });
    }
    expect((await post(`${base}/alerts`, JSON.stringify(notification("out", "firing")))).status).toBe(200);
    expect(await (await fetch(`${base}/health`)).json()).toMatchObject({ signal: { out: true, in: false } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('floodgate_autoscaler_threshold{signal="scale_out_cpu_percent"} 75');
    server.close();
  });

  it("scales on POST /replicas and names a bad count", async () => {
    const { actuator, server, base } = await serve();
    const ok = await post(`${base}/replicas`, '{"replicas":3}');
    expect(await ok.json()).toEqual({ running: 3 });
    const bad = await post(`${base}/replicas`, '{"replicas":9}');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: "invalid_replicas",
      message: expect.stringContaining("replicas = 9"),
    });
    const extra = await post(`${base}/replicas`, '{"replicas":3,"force":true}');
    expect(await extra.json()).toMatchObject({ error: "invalid_replicas" });
    expect(await (await fetch(`${base}/replicas`)).json()).toMatchObject({ running: 3, min: 2, max: 4 });
    expect(actuator.n).toBe(3);
    server.close();
  });
});
