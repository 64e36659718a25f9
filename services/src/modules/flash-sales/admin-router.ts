import type { ApiRouter } from "../../platform/api-router";

import type { Platform } from "../../platform/platform";
import { UnavailableError } from "../../platform/errors";
import { reconcileSale } from "./reconcile";
import { CreateFlashSaleSchema, ReconciliationSchema, SaleIdParamsSchema } from "./schema";
import type { FlashSaleService } from "./service";
import { z } from "zod";

const denied = {};

/** Administrators: create a sale; reconcile one on demand. */
export function flashSaleAdminRoutes(api: ApiRouter, p: Platform, sales: FlashSaleService): void {
  api.route(
    {
      method: "post",
      path: "/admin/flash-sales",
      summary: "Create a flash sale and load its stock into Redis",
      tag: "flash-sales",
      auth: "admin",
      body: CreateFlashSaleSchema,
      responses: { 201: { description: "created", schema: z.object({ id: z.number().int() }) }, ...denied },
    },
    async function createFlashSale(ctx) {
      ctx.status = 201;
      ctx.body = await sales.create(ctx.state.body);
    },
  );
  api.route(
    {
      method: "get",
      path: "/admin/flash-sales/:id/reconciliation",
      summary: "Reconcile a sale now (Redis reservations vs MySQL orders) and report what was found",
      tag: "flash-sales",
      auth: "admin",
      params: SaleIdParamsSchema,
      responses: {
        200: { description: "the report", schema: ReconciliationSchema },
        ...denied,
        404: { description: "not_found" },
        503: { description: "unavailable: another process holds the sale's lock, or Redis is down" },
      },
    },
    async function reconcile(ctx) {
      const { id } = ctx.state.params;
      await sales.get(id); // 404 for an unknown sale
      for (let attempt = 0; attempt < 20; attempt++) {
        const report = await reconcileSale(p, sales.store, id).catch((err: Error) => {
          p.log.warn({ err: err.message, id }, "reconciliation failed");
          throw UnavailableError();
        });
        if (report) {
          ctx.body = report;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250)); // a worker is reconciling it: wait our turn
      }
      throw UnavailableError("the sale is being reconciled elsewhere, retry shortly");
    },
  );
}
