import type Koa from "koa";
import type { ApiRouter } from "../../platform/api-router";
import type { Platform } from "../../platform/platform";
import { catalogAdminRoutes } from "./admin-router";
import { ifNoneMatch } from "./etag";
import { CatalogDocumentSchema, CatalogProductSchema, CatalogVersionSchema, ProductIdParamsSchema } from "./schema";
import { CatalogService } from "./service";
import { FsStaticBucket } from "./static-bucket";

// A public read must not fail because a client sends a stale token: an invalid one counts as anonymous.
async function optionalUserId(p: Platform, ctx: Koa.Context): Promise<number | null> {
  const token = /^Bearer (\S+)$/.exec(ctx.get("Authorization"))?.[1];
  if (token === undefined) return null;
  return p.tokens.verify(token).then(
    (principal) => principal.userId,
    () => null,
  );
}

/** The catalog: public reads (cached; the fallback for the static files) and the administrators' routes. */
export function catalogRoutes(api: ApiRouter, p: Platform): void {
  // The S3-compatible bucket for cloud targets will plug in here, chosen by configuration.
  const catalog = new CatalogService(p, new FsStaticBucket(p.config.STATIC_DIR));
  api.route(
    {
      method: "get",
      path: "/catalog",
      summary: "Every active product: the same document as the published static file",
      tag: "catalog",
      auth: "none",
      responses: { 200: { description: "the catalog", schema: CatalogDocumentSchema } },
    },
    async function getCatalog(ctx) {
      ctx.body = await catalog.catalog();
    },
  );
  api.route(
    {
      method: "get",
      path: "/catalog/version",
      summary: "The current published version; 304 when If-None-Match names it",
      tag: "catalog",
      auth: "none",
      responses: {
        200: { description: "the current version, with ETag", schema: CatalogVersionSchema },
        304: { description: "unchanged since the version in If-None-Match" },
        404: { description: "not_found: nothing published yet" },
      },
    },
    async function getVersion(ctx) {
      const current = await catalog.version();
      const etag = `"${current.version}"`;
      ctx.set("ETag", etag);
      ctx.set("Cache-Control", "no-cache"); // clients revalidate every time; a 304 costs almost nothing
      if (ifNoneMatch(ctx.get("If-None-Match"), etag)) {
        ctx.status = 304;
        return;
      }
      ctx.body = current;
    },
  );
  api.route(
    {
      method: "get",
      path: "/catalog/products/:id",
      summary: "One active product (records a view)",
      tag: "catalog",
      auth: "none",
      params: ProductIdParamsSchema,
      responses: {
        200: { description: "the product", schema: CatalogProductSchema },
        400: { description: "validation_failed: not a product id" },
        404: { description: "not_found" },
      },
    },
    async function getProduct(ctx) {
      const { id } = ctx.state.params;
      const product = await catalog.product(id);
      p.tracking.track("view", `product:${id}`, await optionalUserId(p, ctx));
      ctx.body = product;
    },
  );
  catalogAdminRoutes(api, p, catalog);
}
