import type { LoadPlan } from "../load/closed";
import { adminToken, apiCall } from "../load/fixtures";
import { roundRobin } from "../load/round-robin";
import { entryUrl } from "../load/target";
import type { BenchContext } from "./measure";
import { closed, open } from "./measure";
import type { ScenarioResult } from "./results";

/** Closed and open runs of one read path, every answer expected to be 200. */
async function readScenario(
  b: BenchContext,
  s: Pick<ScenarioResult, "id" | "title" | "path" | "ceiling">,
  request: LoadPlan["request"],
): Promise<Omit<ScenarioResult, "ratioToCeiling">> {
  const plan: LoadPlan = { url: entryUrl(b.target), request, expected: (key) => key === "200" };
  const closedRun = await closed(b, plan);
  return { ...s, closed: closedRun, open: await open(b, plan, closedRun.rps) };
}

/** Cached public profiles: a hot set of 100 users (L1 → Redis → replica on a miss). */
export function cachedProfile(b: BenchContext) {
  const hot = b.users.slice(0, 100);
  return readScenario(
    b,
    { id: "cached-profile", title: "Cached profile read", path: "GET /api/v1/users/:id/profile", ceiling: "koa-bare" },
    (i) => ({ method: "GET", path: `/api/v1/users/${roundRobin(hot, i, "hot user").id}/profile` }),
  );
}

/** The caller's orders, newest first, for 1,000 users who bought in the earlier scenarios. */
export function ordersListing(b: BenchContext) {
  const buyers = b.users.slice(0, 1000);
  return readScenario(
    b,
    { id: "orders-listing", title: "Orders listing", path: "GET /api/v1/orders", ceiling: "koa-bare" },
    (i) => ({
      method: "GET",
      path: "/api/v1/orders",
      headers: { authorization: `Bearer ${roundRobin(buyers, i, "buyer").token}` },
    }),
  );
}

/** The published catalog JSON, a content-hashed static file nginx serves (the CDN edge's job). */
export async function staticCatalog(b: BenchContext) {
  const token = await adminToken(b.target);
  for (let i = 0; i < 50; i++) {
    const body = { sku: `BENCH-${Date.now()}-${i}`, name: `Bench product ${i}`, priceCents: 100 + i };
    await apiCall(b.target, "POST", "/admin/products", { token, body, expect: 201 });
  }
  await apiCall(b.target, "POST", "/admin/catalog/publish", { token, expect: 201 });
  const manifest = (await (await fetch(`${entryUrl(b.target)}/static/manifest.json`)).json()) as { catalog: string };
  const file = new URL(manifest.catalog, entryUrl(b.target)).pathname;
  // As browsers and apps ask for it: the edge answers with the publisher's gzipped copy.
  const sent = await fetch(`${entryUrl(b.target)}${file}`, { headers: { "accept-encoding": "identity" } });
  const bytes = (await sent.arrayBuffer()).byteLength;
  const gzipped = Number(
    (
      await fetch(`${entryUrl(b.target)}${file}`, { method: "HEAD", headers: { "accept-encoding": "gzip" } })
    ).headers.get("content-length"),
  );
  return readScenario(
    b,
    {
      id: "static-catalog",
      title: `Static catalog (${bytes} B, ${gzipped} B gzipped)`,
      path: `GET ${file} (Accept-Encoding: gzip)`,
      ceiling: "nginx-static",
    },
    () => ({ method: "GET", path: file, headers: { "accept-encoding": "gzip" } }),
  );
}
