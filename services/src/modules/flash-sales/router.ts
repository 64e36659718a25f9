import type { ApiRouter } from "../../platform/api-router";
import { principal } from "../../platform/auth";
import { requireIdempotencyKey } from "../../platform/idempotency";
import type { Platform } from "../../platform/platform";
import { flashSaleAdminRoutes } from "./admin-router";
import {
  FlashSaleSchema,
  PurchaseAcceptedSchema,
  PurchaseParamsSchema,
  PurchaseStatusSchema,
  SaleIdParamsSchema,
} from "./schema";
import { FlashSaleService } from "./service";

const common = {
  404: { description: "not_found" },
};

/** Flash sales: read a sale, buy (admitted in Redis, persisted by the orders worker), poll the outcome. */
export function flashSalesRoutes(api: ApiRouter, p: Platform): void {
  const sales = new FlashSaleService(p);
  api.route(
    {
      method: "get",
      path: "/flash-sales/:id",
      summary: "A flash sale: its window, stock, remaining units and status",
      tag: "flash-sales",
      auth: "user",
      params: SaleIdParamsSchema,
      responses: { 200: { description: "the sale", schema: FlashSaleSchema }, ...common },
    },
    async function getFlashSale(ctx) {
      ctx.body = await sales.get(ctx.state.params.id);
    },
  );
  api.route(
    {
      method: "post",
      path: "/flash-sales/:id/purchases",
      summary: "Buy one unit; the Idempotency-Key header (UUID) is required and makes retries safe",
      tag: "flash-sales",
      auth: "user",
      params: SaleIdParamsSchema,
      responses: {
        202: { description: "admitted and queued: poll the request", schema: PurchaseAcceptedSchema },
        ...common,
        403: { description: "not_started, ended" },
        409: { description: "sold_out, limit_reached, idempotency_key_reused" },
        503: {
          description:
            "unavailable: outcome unknown (Redis could not answer, or no replica holds the admission yet); retry with the same Idempotency-Key",
        },
      },
    },
    async function purchase(ctx) {
      const key = requireIdempotencyKey(ctx);
      const { id } = ctx.state.params;
      ctx.body = await sales.purchase(id, principal(ctx).userId, key);
      ctx.status = 202;
    },
  );
  api.route(
    {
      method: "get",
      path: "/flash-sales/:id/purchases/:requestId",
      summary: "The state of the caller's purchase request: queued, confirmed (with the order) or failed",
      tag: "flash-sales",
      auth: "user",
      params: PurchaseParamsSchema,
      responses: { 200: { description: "the request's state", schema: PurchaseStatusSchema }, ...common },
    },
    async function purchaseStatus(ctx) {
      const { id, requestId } = ctx.state.params;
      ctx.body = await sales.status(id, requestId, principal(ctx).userId);
    },
  );
  flashSaleAdminRoutes(api, p, sales);
}
