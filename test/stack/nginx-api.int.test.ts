import fs from "node:fs";
import path from "node:path";
import { getJson, testAddresses } from "./clients";
import { testLayout, testTopology } from "./test-stack";

interface Health {
  status: string;
  instance: string;
}
interface Dependencies extends Health {
  checks: Record<string, { status: string; latencyMs: number }>;
}

describe("nginx in front of the API replicas", () => {
  const a = testAddresses();
  const base = `http://${a.nginx.host}:${a.nginx.port}`;

  it("answers /api/v1/health with 200 and only a status and an instance: no dependency detail in public", async () => {
    const { status, body } = await getJson<Health>(`${base}/api/v1/health`);
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok", instance: expect.stringMatching(/^api-\d+$/) });
  });

  it("shows every dependency up on each replica's internal port, which nginx does not expose", async () => {
    for (const replica of a.api) {
      const { status, body } = await getJson<Dependencies>(
        `http://${replica.host}:${replica.port}/health/dependencies`,
      );
      expect(status).toBe(200);
      expect(Object.keys(body.checks).sort()).toEqual(["mysqlPrimary", "mysqlReplica1", "rabbitmq", "redis"]);
      for (const check of Object.values(body.checks)) expect(check.status).toBe("up");
    }
    expect((await getJson(`${base}/health/dependencies`)).status).toBe(404);
  });

  it("spreads requests over every API replica", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < a.api.length; i++) {
      seen.add((await getJson<Health>(`${base}/api/v1/health/live`)).body.instance);
    }
    expect([...seen].sort()).toEqual(a.api.map((_, i) => `api-${i + 1}`).sort());
  });

  it("answers unknown paths with a JSON 404 and never exposes /metrics", async () => {
    for (const url of ["/nope", "/metrics", "/api/v1/nope"]) {
      const { status, body } = await getJson<{ error: string }>(`${base}${url}`);
      expect({ url, status, error: body.error }).toEqual({ url, status: 404, error: "not_found" });
    }
  });

  it("serves /static/ with immutable caching for content-hashed names and a short TTL for the manifest", async () => {
    const root = testLayout().staticRoot;
    fs.writeFileSync(path.join(root, "catalog.0123abcd.json"), '{"products":[]}');
    fs.writeFileSync(path.join(root, "manifest.json"), '{"catalog":"catalog.0123abcd.json"}');
    const t = testTopology();

    const hashed = await fetch(`${base}/static/catalog.0123abcd.json`);
    expect(hashed.status).toBe(200);
    expect(hashed.headers.get("cache-control")).toBe(`public, max-age=${t.static.immutableMaxAgeSeconds}, immutable`);
    const manifest = await fetch(`${base}/static/manifest.json`);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("cache-control")).toBe(`public, max-age=${t.static.manifestMaxAgeSeconds}`);
  });
});
