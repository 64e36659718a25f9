import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Autoscaler, type Actuator } from "./controller";

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

async function withPrometheus(up: boolean, fn: (url: string) => Promise<void>) {
  const server = http.createServer((_req, res) => res.writeHead(up ? 200 : 503).end());
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

describe("Autoscaler", () => {
  it("steps out on a firing ApiScaleOut, a cooldown apart, and stops when it resolves", async () => {
    await withPrometheus(true, async (url) => {
      let now = 0;
      const actuator = new CountingActuator(2);
      const a = new Autoscaler(settings(url), actuator, pino({ level: "silent" }), () => now);
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
    await withPrometheus(false, async (url) => {
      const a = new Autoscaler(settings(url), new CountingActuator(3), pino({ level: "silent" }));
      a.onWebhook(notification("in", "firing"));
      expect(await a.tick()).toMatchObject({ action: "hold", reason: "prometheus_unreachable" });
    });
  });

  it("answers a malformed notification with 400 invalid_notification and exports its thresholds", async () => {
    const a = new Autoscaler(settings("http://127.0.0.1:1"), new CountingActuator(2), pino({ level: "silent" }));
    const server = a.server();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const bad = await fetch(`${base}/alerts`, { method: "POST", body: JSON.stringify({ version: "3" }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "invalid_notification" });
    const ok = await fetch(`${base}/alerts`, { method: "POST", body: JSON.stringify(notification("out", "firing")) });
    expect(ok.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('floodgate_autoscaler_threshold{signal="scale_out_cpu_percent"} 75');
    server.close();
  });
});
