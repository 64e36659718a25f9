import type Koa from "koa";
import { createApp } from "./app";
import type { Platform } from "./platform/platform";
import { Tokens } from "./platform/tokens";

// Registering routes touches no server: a platform whose clients are never called is enough.
function routeOnlyPlatform(): Platform {
  const pass: Koa.Middleware = async (_ctx, next) => next();
  return {
    config: { INSTANCE_ID: "doc", STATIC_DIR: "/tmp", STATIC_BASE_URL: "/static/" },
    tokens: new Tokens("x".repeat(32), 900),
    limits: { perIp: pass, perUser: pass, logins: pass },
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
