import http from "node:http";
import type { AddressInfo } from "node:net";
import Koa from "koa";
import pino from "pino";
import { PoolError } from "./db-pool";
import { ConflictError, errorHandler, HttpError, RateLimitedError, UnavailableError } from "./errors";
import { PublishError } from "./mq";

describe("HttpError", () => {
  it("carries no stack frames for a 4xx (an answer, not a fault) and leaves the process's stack depth as it was", () => {
    const depth = Error.stackTraceLimit;
    const err = ConflictError("sold_out", "the sale is sold out");
    expect(err.stack).toBe("HttpError: the sale is sold out");
    expect(Error.stackTraceLimit).toBe(depth);
    expect(new Error("x").stack).toMatch(/\n\s+at /);
  });

  it("keeps the stack of a 5xx", () => {
    expect(UnavailableError().stack).toMatch(/\n\s+at /);
    expect(new HttpError(500, "internal", "boom").stack).toMatch(/\n\s+at /);
  });
});

describe("errorHandler", () => {
  const log = pino({ level: "silent" });
  let server: http.Server;
  let thrown: unknown;
  let base: string;

  beforeAll(async () => {
    const app = new Koa();
    app.use(errorHandler(log));
    app.use(() => {
      throw thrown;
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const answer = async (err: unknown) => {
    thrown = err;
    const res = await fetch(base);
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as object };
  };

  it.each([
    ["the database is unreachable", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })],
    ["the primary is read-only", Object.assign(new Error("read-only"), { code: "ER_OPTION_PREVENTS_STATEMENT" })],
    ["a statement timed out", new PoolError("DB_STATEMENT_TIMEOUT", "no answer from the writer within 4000 ms")],
    ["the pool's queue is full", new PoolError("DB_QUEUE_FULL", "the writer pool's queue is full")],
    ["Redis closed the connection", new Error("Connection is closed.")],
    ["RabbitMQ did not confirm", new PublishError("no confirm within 2000 ms", "unconfirmed")],
  ])("answers 503 unavailable with Retry-After when %s, without the driver's text", async (_, err) => {
    const res = await answer(err);
    expect(res).toMatchObject({ status: 503, retryAfter: "2", body: { error: "unavailable" } });
    expect(JSON.stringify(res.body)).not.toContain((err as Error).message);
  });

  it("answers 500 internal for a bug, without its message", async () => {
    const res = await answer(new TypeError("Cannot read properties of undefined (reading 'secret')"));
    expect(res).toMatchObject({ status: 500, retryAfter: null, body: { error: "internal" } });
    expect(JSON.stringify(res.body)).not.toContain("secret");
  });

  it("renders an HttpError as it is, headers included", async () => {
    expect(await answer(RateLimitedError(3))).toMatchObject({
      status: 429,
      retryAfter: "3",
      body: { error: "rate_limited" },
    });
  });
});
