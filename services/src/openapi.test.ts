import type Koa from "koa";
import { present } from "../../test/support/checked";
import { createApp } from "./app";
import type { Platform } from "./platform/platform";
import { requireAuth } from "./platform/auth";
import { Tokens } from "./platform/tokens";

// Registering routes touches no server: a platform whose clients are never called is enough.
function routeOnlyPlatform(): Platform {
  const pass: Koa.Middleware = async (_ctx, next) => next();
  return {
    config: { INSTANCE_ID: "doc", STATIC_DIR: "/tmp", STATIC_BASE_URL: "/static/" },
    tokens: new Tokens("x".repeat(32), 900),
    limits: { perIp: pass, perUser: pass, logins: pass, signups: pass },
    caches: { cache: () => ({ get: async () => null, invalidate: async () => undefined }) },
  } as unknown as Platform;
}

describe("the OpenAPI document", () => {
  const { api } = createApp(routeOnlyPlatform());
  const doc = api.document({ title: "floodgate API", version: "1" }) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  };

  it("is OpenAPI 3.1", () => {
    expect(doc.openapi).toBe("3.1.0");
  });

  it("documents every route the router serves, and nothing else", () => {
    const served = api.router.stack.flatMap((layer) =>
      layer.methods
        .filter((m) => m !== "HEAD")
        .map((m) => `${m.toLowerCase()} ${String(layer.path).replace(/:(\w+)/g, "{$1}")}`),
    );
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(served.length).toBeGreaterThan(10);
    expect(documented.sort()).toEqual([...new Set(served)].sort());
  });

  it("documents the answers authentication adds: 401 and 429 on every guarded route, 403 on admin routes", () => {
    const ops = Object.values(doc.paths).flatMap((o) => Object.values(o)) as Array<{
      security?: unknown[];
      summary: string;
      responses: Record<string, unknown>;
    }>;
    const guarded = ops.filter((op) => op.security === undefined);
    expect(guarded.length).toBeGreaterThan(5);
    for (const op of guarded)
      expect({ op: op.summary, has: ["401", "429"].every((s) => s in op.responses) }).toEqual({
        op: op.summary,
        has: true,
      });
    const admin = api.specs.filter((spec) => spec.auth === "admin");
    expect(admin.length).toBeGreaterThan(3);
    for (const spec of admin) expect(Object.keys(spec.responses)).toContain("403");
  });

  it("documents 503 unavailable (Retry-After) on every route that uses a dependency", () => {
    const dependent = api.specs.filter((spec) => !spec.standalone);
    expect(dependent.length).toBeGreaterThan(10);
    for (const spec of dependent)
      expect({ route: spec.path, has: "503" in spec.responses }).toEqual({ route: spec.path, has: true });
    expect(api.specs.find((s) => s.path === "/health/live")?.responses).not.toHaveProperty("503");
  });

  it("documents the sign-up limit (429) and the orders key bound to its body (409)", () => {
    const response = (method: string, path: string, status: number) => {
      const op = doc.paths[path]?.[method] as { responses: Record<string, { description: string }> } | undefined;
      return present(op?.responses[status], `the ${status} response of ${method} ${path}`);
    };
    expect(response("post", "/api/v1/users", 429).description).toMatch(/rate_limited/);
    expect(response("post", "/api/v1/orders", 409).description).toMatch(/another body/);
  });

  it("refuses at start-up a route that passes its own authentication (spec.auth adds it)", () => {
    const p = routeOnlyPlatform();
    expect(() =>
      api.route(
        {
          method: "get",
          path: "/twice",
          summary: "x",
          tag: "x",
          auth: "user",
          responses: { 200: { description: "ok" } },
        },
        requireAuth(p.tokens),
      ),
    ).toThrow(/spec.auth adds authentication/);
  });

  it("gives every operation a summary, a tag and at least one success response", () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops) as Array<
        [string, { summary?: string; tags?: string[]; responses: Record<string, unknown> }]
      >) {
        expect({ path, method, summary: Boolean(op.summary), tag: op.tags?.length }).toEqual({
          path,
          method,
          summary: true,
          tag: 1,
        });
        expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s))).toBe(true);
      }
    }
  });
});
