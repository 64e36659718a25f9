import { z } from "zod";

/** POST /orders body: buy a catalog product at its current price. */
export const CreateOrderSchema = z.strictObject({
  productId: z.number().int().positive(),
  quantity: z.number().int().min(1).max(10).default(1),
});
/** POST /orders body type. */
export type CreateOrderReq = z.infer<typeof CreateOrderSchema>;

/** GET /orders query: newest first, keyset pagination by order id. */
export const ListOrdersQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.coerce.number().int().positive().optional(),
});
/** GET /orders query type. */
export type ListOrdersQuery = z.infer<typeof ListOrdersQuerySchema>;

/** An order as clients see it. */
export const OrderSchema = z.object({
  id: z.number().int(),
  requestId: z.string(),
  productId: z.number().int().nullable(),
  flashSaleId: z.number().int().nullable(),
  quantity: z.number().int(),
  amountCents: z.number().int(),
  status: z.enum(["confirmed", "cancelled"]),
  createdAt: z.string(),
});
/** An order. */
export type Order = z.infer<typeof OrderSchema>;

/** A page of orders; pass nextCursor back as `cursor` for the next page. */
export const OrderPageSchema = z.object({ items: z.array(OrderSchema), nextCursor: z.number().int().nullable() });

/** The optional Idempotency-Key header: a client-chosen UUID. */
export const IdempotencyKeySchema = z.uuid();
