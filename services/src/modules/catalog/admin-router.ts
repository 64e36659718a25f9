import type { ApiRouter } from "../../platform/api-router";

import type { Platform } from "../../platform/platform";
import {
  CreateProductSchema,
  ProductIdParamsSchema,
  ProductSchema,
  PublicationSchema,
  UpdateProductSchema,
} from "./schema";
import type { CatalogService } from "./service";

const denied = {};

/** Administrators: create and edit products, publish the catalog to the static bucket. */
export function catalogAdminRoutes(api: ApiRouter, p: Platform, catalog: CatalogService): void {
  api.route(
    {
      method: "post",
      path: "/admin/products",
      summary: "Create a product",
      tag: "catalog",
      auth: "admin",
      body: CreateProductSchema,
      responses: {
        201: { description: "created", schema: ProductSchema },
        ...denied,
        409: { description: "sku_taken" },
      },
    },
    async function createProduct(ctx) {
      ctx.status = 201;
      ctx.body = await catalog.createProduct(ctx.state.body);
    },
  );
  api.route(
    {
      method: "patch",
      path: "/admin/products/:id",
      summary: "Change some fields of a product (active: false hides it from the catalog)",
      tag: "catalog",
      auth: "admin",
      params: ProductIdParamsSchema,
      body: UpdateProductSchema,
      responses: {
        200: { description: "the product after the change", schema: ProductSchema },
        ...denied,
        404: { description: "not_found" },
        409: { description: "sku_taken" },
      },
    },
    async function updateProduct(ctx) {
      const { id } = ctx.state.params;
      ctx.body = await catalog.updateProduct(id, ctx.state.body);
    },
  );
  api.route(
    {
      method: "post",
      path: "/admin/catalog/publish",
      summary: "Publish the active products as content-hashed files and point the manifest at them",
      tag: "catalog",
      auth: "admin",
      responses: {
        201: { description: "a new version was published", schema: PublicationSchema },
        200: { description: "nothing changed: the current version (files rewritten)", schema: PublicationSchema },
        ...denied,
      },
    },
    async function publish(ctx) {
      const publication = await catalog.publish();
      ctx.status = publication.changed ? 201 : 200;
      ctx.body = publication;
    },
  );
}
