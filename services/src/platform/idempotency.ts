import type Koa from "koa";
import { z } from "zod";
import { ValidationError } from "./errors";

/** An Idempotency-Key header: a client-chosen UUID. */
export const IdempotencyKeyHeaderSchema = z.uuid();

/** The request's Idempotency-Key (a UUID), or 400 validation_failed when it is missing or malformed. */
export function requireIdempotencyKey(ctx: Koa.Context): string {
  const key = IdempotencyKeyHeaderSchema.safeParse(ctx.get("Idempotency-Key"));
  if (!key.success) throw ValidationError([{ path: "Idempotency-Key", message: "required: a UUID" }]);
  return key.data;
}
