import type Koa from "koa";
import { unavailableDependency } from "./dependency-failure";
import type { Logger } from "./log";

/**
 * An error a client can act on: an HTTP status, a stable id, a message, optional details. A 4xx
 * carries no stack trace: it is an answer, never logged, and capturing one was 6% of the API's busy
 * time in a CPU profile of the bench's sold-out storm (every request there ends in a 409).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    const depth = Error.stackTraceLimit;
    if (status < 500) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = depth;
    this.name = "HttpError";
  }
}

/** 400: the request is malformed or fails its schema. */
export const ValidationError = (details: unknown, message = "the request does not match its schema") =>
  new HttpError(400, "validation_failed", message, details);
/** 400: the body is not valid JSON. */
export const InvalidJsonError = () => new HttpError(400, "invalid_json", "the body is not valid JSON");
/** 401: no valid credentials or token. */
export const UnauthorizedError = (id = "unauthorized", message = "a valid bearer token is required") =>
  new HttpError(401, id, message, undefined, { "WWW-Authenticate": 'Bearer realm="floodgate"' });
/** 403: authenticated but not allowed. */
export const ForbiddenError = (id = "forbidden", message = "not allowed") => new HttpError(403, id, message);
/** 404: no such resource (also for resources the caller may not see). */
export const NotFoundError = (message = "not found") => new HttpError(404, "not_found", message);
/** 409: conflicts with the current state. */
export const ConflictError = (id: string, message: string) => new HttpError(409, id, message);
/** 413: the body is larger than allowed. */
export const PayloadTooLargeError = () => new HttpError(413, "payload_too_large", "the body is too large");
/** 415: the body is not JSON. */
export const UnsupportedMediaTypeError = () => new HttpError(415, "unsupported_media_type", "send application/json");
/** 429: slow down; retryAfterSeconds goes into Retry-After. */
export const RateLimitedError = (retryAfterSeconds: number) =>
  new HttpError(429, "rate_limited", "too many requests, retry shortly", undefined, {
    "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
/** 503: a dependency is unavailable and the answer cannot be given now; retryAfterSeconds goes into Retry-After. */
export const UnavailableError = (message = "temporarily unavailable, retry shortly", retryAfterSeconds = 1) =>
  new HttpError(503, "unavailable", message, undefined, { "Retry-After": String(retryAfterSeconds) });

// A database, Redis or RabbitMQ outage that reached the error handler: a failover takes a few
// seconds, so clients are told to wait a little longer than for a busy moment.
const OUTAGE_RETRY_AFTER_SECONDS = 2;

// Errors raised by koa's body parser and http-errors carry a status and `expose`.
function fromParserError(err: { status?: number } | null): HttpError | null {
  if (!err) return null;
  if (err.status === 413) return PayloadTooLargeError();
  if (err.status === 415) return UnsupportedMediaTypeError();
  if (err.status === 400) return InvalidJsonError();
  return null;
}

/**
 * The one HttpError an error stands for: its own, a body parser's 4xx, a 503 for a dependency that is
 * unavailable (see unavailableDependency), or null for anything else — a bug, answered with 500.
 */
export function asHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  const parsed = fromParserError(err as { status?: number });
  if (parsed) return parsed;
  const dependency = unavailableDependency(err);
  return dependency
    ? UnavailableError(
        `the service's ${dependency === "mysql" ? "database" : dependency} is unavailable, retry shortly`,
        OUTAGE_RETRY_AFTER_SECONDS,
      )
    : null;
}

/** The one error middleware: renders `{ error, message, details? }`, logs only 5xx (with the request id). */
export function errorHandler(log: Logger): Koa.Middleware {
  return async function renderErrors(ctx, next) {
    try {
      await next();
    } catch (caught) {
      const err = caught as Error;
      const known = asHttpError(err);
      if (known) {
        // A 503 the code chose is an answer; one made from a dependency's error is worth a line.
        if (!(err instanceof HttpError) && known.status >= 500) {
          (ctx.state.log ?? log).warn({ err: err.message, requestId: ctx.state.requestId }, "dependency unavailable");
        }
        ctx.status = known.status;
        ctx.set(known.headers);
        ctx.body = { error: known.id, message: known.message, ...(known.details ? { details: known.details } : {}) };
        return;
      }
      (ctx.state.log ?? log).error({ err, requestId: ctx.state.requestId }, "unhandled error");
      ctx.status = 500;
      ctx.body = { error: "internal", message: "something went wrong on our side", requestId: ctx.state.requestId };
    }
  };
}
