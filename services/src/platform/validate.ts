import type Koa from "koa";
import { z } from "zod";
import { UnsupportedMediaTypeError, ValidationError } from "./errors";

/** A positive decimal integer id in a path (no signs, exponents or leading zeros), as a number. */
export const PositiveIdParam = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, { error: "a positive integer id" })
  .transform(Number);

function issues(error: z.ZodError) {
  return error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

/** What a validator leaves in ctx.state: the schema's output under `name`, typed for what runs after it. */
export type Validated<Name extends "params" | "query" | "body", S extends z.ZodType> = { [K in Name]: z.output<S> };

/** Parse the JSON body with a strict schema into ctx.state.body; 400 validation_failed otherwise. */
export function validateBody<S extends z.ZodType>(schema: S): Koa.Middleware<Validated<"body", S>> {
  return async function validBody(ctx, next) {
    // The body parser ignores what is not JSON; say so rather than validating an empty body.
    if (ctx.request.length && !ctx.is("application/json")) throw UnsupportedMediaTypeError();
    const result = schema.safeParse((ctx.request as unknown as { body?: unknown }).body ?? {});
    if (!result.success) throw ValidationError(issues(result.error));
    ctx.state.body = result.data;
    await next();
  };
}

/** Parse the query string into ctx.state.query; 400 validation_failed otherwise. */
export function validateQuery<S extends z.ZodType>(schema: S): Koa.Middleware<Validated<"query", S>> {
  return async function validQuery(ctx, next) {
    const result = schema.safeParse(ctx.query);
    if (!result.success) throw ValidationError(issues(result.error));
    ctx.state.query = result.data;
    await next();
  };
}

/** Parse route parameters into ctx.state.params; 404 for ids that cannot exist is the router's call. */
export function validateParams<S extends z.ZodType>(schema: S): Koa.Middleware<Validated<"params", S>> {
  return async function validParams(ctx, next) {
    const result = schema.safeParse((ctx as unknown as { params: unknown }).params);
    if (!result.success) throw ValidationError(issues(result.error), "bad path parameter");
    ctx.state.params = result.data;
    await next();
  };
}
