import { bodyParser } from "@koa/bodyparser";
import Koa from "koa";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { ApiRouter } from "./api-router";
import { errorHandler } from "./errors";
import { createLogger } from "./log";
import { Tokens } from "./tokens";

// A route whose every input has a transforming schema: the handler must see the outputs, typed.
function serve(): Promise<{ url: string; close: () => void }> {
  const pass: Koa.Middleware = async (_ctx, next) => next();
  const api = new ApiRouter({ tokens: new Tokens("x".repeat(32), 900), perUser: pass });
  api.route(
    {
      method: "post",
      path: "/things/:id",
      summary: "x",
      tag: "x",
      auth: "none",
      params: z.object({
        id: z
          .string()
          .regex(/^[0-9]+$/)
          .transform(Number),
      }),
      query: z.object({ dryRun: z.enum(["true", "false"]).transform((v) => v === "true") }),
      body: z.strictObject({ name: z.string().trim() }),
      responses: { 200: { description: "ok" } },
    },
    async function echo(ctx) {
      const id: number = ctx.state.params.id;
      const dryRun: boolean = ctx.state.query.dryRun;
      const name: string = ctx.state.body.name;
      ctx.body = { id, dryRun, name, types: [typeof id, typeof dryRun] };
    },
  );
  api.route(
    { method: "get", path: "/plain", summary: "x", tag: "x", auth: "none", responses: { 200: { description: "ok" } } },
    async function plain(ctx) {
      // @ts-expect-error a route without a body schema has no ctx.state.body
      ctx.body = { body: ctx.state.body ?? null };
    },
  );
  const app = new Koa();
  app.use(errorHandler(createLogger({ INSTANCE_ID: "test", LOG_LEVEL: "fatal" })));
  app.use(bodyParser({ enableTypes: ["json"] }));
  app.use(api.router.routes());
  return new Promise((resolve) => {
    const server = app.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }),
    );
  });
}

describe("ApiRouter.route", () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    server = await serve();
  });
  afterAll(() => server.close());

  const post = (path: string, body: unknown) =>
    fetch(`${server.url}/api/v1${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it("hands the handler each schema's output in ctx.state: params, query and body", async () => {
    const res = await post("/things/42?dryRun=true", { name: "  lamp " });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 42, dryRun: true, name: "lamp", types: ["number", "boolean"] });
  });

  it.each([
    ["path parameter", "/things/4x2?dryRun=true", { name: "lamp" }, "bad path parameter"],
    ["query", "/things/42?dryRun=maybe", { name: "lamp" }, undefined],
    ["body", "/things/42?dryRun=false", { name: "lamp", extra: 1 }, undefined],
  ])("answers 400 validation_failed before the handler for a bad %s", async (_, path, body, message) => {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: string; message: string };
    expect(answer.error).toBe("validation_failed");
    if (message) expect(answer.message).toBe(message);
  });

  it("leaves ctx.state without input on a route that validates none", async () => {
    const res = await fetch(`${server.url}/api/v1/plain`);
    expect(await res.json()).toEqual({ body: null });
  });
});
