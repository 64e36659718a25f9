import { principal } from "../../platform/auth";
import type { ApiRouter } from "../../platform/api-router";
import { ValidationError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { CreateOrderSchema, IdempotencyKeySchema, ListOrdersQuerySchema, OrderPageSchema, OrderSchema } from "./schema";
import { createOrder, ordersPage } from "./service";

/** Regular purchases and the user's order list. */
export function ordersRoutes(api: ApiRouter, p: Platform): void {
  api.route(
    {
      method: "post",
      path: "/orders",
      summary: "Buy a catalog product; an Idempotency-Key header (UUID) makes retries safe",
      tag: "orders",
      auth: "user",
      body: CreateOrderSchema,
      responses: {
        201: { description: "created", schema: OrderSchema },
        200: { description: "the order this Idempotency-Key already created", schema: OrderSchema },
        404: { description: "not_found: no such product" },
        409: {
          description: "idempotency_key_reused: the key was used by another user, or with another body",
        },
        503: { description: "unavailable: the database cannot take the order now; retry with the same key" },
      },
    },
    async function buy(ctx) {
      const header = ctx.get("Idempotency-Key");
      const key = header ? IdempotencyKeySchema.safeParse(header) : null;
      if (key && !key.success) throw ValidationError([{ path: "Idempotency-Key", message: "must be a UUID" }]);
      const { order, created } = await createOrder(p, principal(ctx).userId, ctx.state.body, key?.data);
      ctx.status = created ? 201 : 200;
      ctx.body = order;
    },
  );
  api.route(
    {
      method: "get",
      path: "/orders",
      summary: "The caller's orders, newest first (keyset pagination)",
      tag: "orders",
      auth: "user",
      query: ListOrdersQuerySchema,
      responses: {
        200: { description: "a page", schema: OrderPageSchema },
      },
    },
    async function list(ctx) {
      ctx.body = await ordersPage(p, principal(ctx).userId, ctx.state.query);
    },
  );
}
