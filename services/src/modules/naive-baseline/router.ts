import type { ApiRouter } from "../../platform/api-router";
import { principal } from "../../platform/auth";
import { ConflictError } from "../../platform/errors";
import { requireIdempotencyKey } from "../../platform/idempotency";
import type { Platform } from "../../platform/platform";
import { SaleIdParamsSchema } from "../flash-sales/schema";
import { naivePurchase } from "./repository";

/**
 * `POST /naive/flash-sales/:id/purchases`: the benchmark's baseline, served only when the topology
 * asks for it (api.naiveBaseline). Same auth, limits and nginx as the real purchase; none of its design.
 */
export function naiveBaselineRoutes(api: ApiRouter, p: Platform): void {
  if (!p.config.NAIVE_BASELINE) return;
  api.route(
    {
      method: "post",
      path: "/naive/flash-sales/:id/purchases",
      summary: "Benchmark baseline: buy one unit with a row-locked UPDATE and an INSERT in MySQL",
      tag: "benchmark",
      auth: "user",
      params: SaleIdParamsSchema,
      responses: {
        201: { description: "the order is committed" },
        400: { description: "validation_failed: no Idempotency-Key UUID" },
        409: { description: "sold_out, limit_reached, duplicate_request" },
      },
    },
    async function naivePurchaseRoute(ctx) {
      const key = requireIdempotencyKey(ctx);
      const { id } = ctx.state.params;
      const outcome = await naivePurchase(p.db, id, principal(ctx).userId, key);
      if (outcome.kind === "refused") throw ConflictError(outcome.reason, `refused: ${outcome.reason}`);
      ctx.status = 201;
      ctx.body = { orderId: outcome.orderId };
    },
  );
}
