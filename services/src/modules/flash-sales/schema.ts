import { z } from "zod";

const IsoDateTime = z.iso.datetime({ offset: true });

/** POST /admin/flash-sales body. Strict: unknown fields are a client error. */
export const CreateFlashSaleSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    priceCents: z.number().int().min(0).max(100_000_000_000),
    stock: z.number().int().min(1).max(1_000_000),
    perUserLimit: z.number().int().min(1).max(100),
    startsAt: IsoDateTime,
    endsAt: IsoDateTime,
  })
  .refine((s) => Date.parse(s.endsAt) > Date.parse(s.startsAt), {
    error: "endsAt must be after startsAt",
    path: ["endsAt"],
  });
/** POST /admin/flash-sales body type. */
export type CreateFlashSaleReq = z.infer<typeof CreateFlashSaleSchema>;

const Id = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, { error: "a positive integer id" })
  .transform(Number);

/** `:id` path parameter. */
export const SaleIdParamsSchema = z.object({ id: Id });
/** `:id` path parameter type. */
export type SaleIdParams = z.infer<typeof SaleIdParamsSchema>;

/** `:id/purchases/:requestId` path parameters. */
export const PurchaseParamsSchema = z.object({ id: Id, requestId: z.uuid() });
/** `:id/purchases/:requestId` type. */
export type PurchaseParams = z.infer<typeof PurchaseParamsSchema>;

/** A sale as clients see it. */
export const FlashSaleSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  stock: z.number().int(),
  remaining: z.number().int(),
  perUserLimit: z.number().int(),
  startsAt: z.string(),
  endsAt: z.string(),
  status: z.enum(["scheduled", "active", "sold_out", "ended"]),
});
/** A sale. */
export type FlashSale = z.infer<typeof FlashSaleSchema>;

/** 202 answer of a purchase. */
export const PurchaseAcceptedSchema = z.object({ requestId: z.uuid(), status: z.literal("queued") });

/** A purchase request's state: queued, confirmed with its order, or failed with the reason. */
export const PurchaseStatusSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("queued") }),
  z.object({ status: z.literal("confirmed"), orderId: z.number().int() }),
  z.object({ status: z.literal("failed"), reason: z.string() }),
]);
/** A purchase request's state type. */
export type PurchaseStatus = z.infer<typeof PurchaseStatusSchema>;

/** The message an admitted purchase puts on the `orders` queue. */
export const OrderMessageSchema = z.strictObject({
  saleId: z.number().int().positive(),
  requestId: z.uuid(),
  userId: z.number().int().positive(),
  seq: z.number().int().positive(),
  admittedAtMs: z.number().int().positive(),
});
/** An `orders` queue message. */
export type OrderMessage = z.infer<typeof OrderMessageSchema>;

/** What one reconciliation of a sale found and repaired (see reconcile.ts for the definitions). */
export const ReconciliationSchema = z.object({
  saleId: z.number().int(),
  stock: z.number().int(),
  orders: z.number().int(),
  reservations: z.number().int(),
  failed: z.number().int(),
  pending: z.number().int(),
  republished: z.number().int(),
  restored: z.number().int(),
  redisRemainingBefore: z.number().int().nullable(),
  redisRemaining: z.number().int(),
  mysqlRemaining: z.number().int(),
  drift: z.number().int(),
  mysqlConsistent: z.boolean(),
  at: z.string(),
});
/** A reconciliation report. */
export type Reconciliation = z.infer<typeof ReconciliationSchema>;
