import Router from "@koa/router";
import type Koa from "koa";
import { z } from "zod";
import { requireAdmin, requireAuth } from "./auth";
import type { Tokens } from "./tokens";
import { validateBody, validateParams, validateQuery, type Validated } from "./validate";

/** How a route is documented: the same schemas validate the request. */
export interface RouteSpec {
  method: "get" | "post" | "patch" | "put" | "delete";
  /** Koa path relative to /api/v1, e.g. "/users/:id". */
  path: string;
  summary: string;
  tag: string;
  auth: "none" | "user" | "admin";
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Middleware that runs before validation, e.g. a rate limit that must count malformed attempts too. */
  before?: Koa.Middleware[];
  /** The route answers from the process alone (no database, Redis or RabbitMQ), so never 503 unavailable. */
  standalone?: boolean;
  /** Status → description and optional body schema. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

// One part of a route's state: the output of the schema `spec[Name]`, or nothing when it has none.
type Parsed<Spec, Name extends "params" | "query" | "body"> = Spec extends { [K in Name]: infer S extends z.ZodType }
  ? Validated<Name, S>
  : unknown;

/**
 * What a route's handlers find in ctx.state once validation ran: `params`, `query` and `body` typed
 * as the outputs of the spec's schemas, and only those the spec has (reading another does not compile).
 */
export type RouteState<Spec extends RouteSpec> = Parsed<Spec, "params"> & Parsed<Spec, "query"> & Parsed<Spec, "body">;

/** The answers every route of a kind can give; a route's own `responses` override these. */
function standardResponses(spec: RouteSpec): RouteSpec["responses"] {
  const answers: RouteSpec["responses"] = {};
  if (spec.params || spec.query || spec.body) answers[400] = { description: "validation_failed, invalid_json" };
  if (spec.auth !== "none") {
    answers[401] = { description: "unauthorized, invalid_token or token_expired" };
    answers[429] = { description: "rate_limited" };
  }
  if (spec.auth === "admin") answers[403] = { description: "admin_only" };
  if (!spec.standalone) {
    answers[503] = {
      description:
        "unavailable: a dependency (database, Redis or RabbitMQ) is down, frozen or overloaded; retry after Retry-After seconds",
    };
  }
  return answers;
}

/** The common error body every 4xx and 5xx carries. */
export const ErrorBodySchema = z.object({
  error: z.string().describe("stable error id"),
  message: z.string(),
  details: z.unknown().optional(),
});

/**
 * A router whose every route is documented: `route()` registers the handler, validation of params,
 * query and body, and the OpenAPI entry in one call, so the document cannot drift from the routes.
 */
export class ApiRouter {
  readonly router = new Router({ prefix: "/api/v1" });
  readonly specs: RouteSpec[] = [];

  constructor(private readonly access: { tokens: Tokens; perUser: Koa.Middleware }) {}

  /**
   * Register a documented route: authentication from spec.auth, then `before`, validation, `middleware`.
   * The middleware's ctx.state carries the parsed input (RouteState): no cast between schema and handler.
   */
  route<Spec extends RouteSpec>(spec: Spec, ...middleware: Array<Koa.Middleware<RouteState<Spec>>>): void {
    if (middleware.some((m) => m.name === "authenticated" || m.name === "adminOnly")) {
      throw new Error(`${spec.method.toUpperCase()} ${spec.path}: spec.auth adds authentication; do not pass it`);
    }
    this.specs.push({ ...spec, responses: { ...standardResponses(spec), ...spec.responses } });
    const validators = [
      spec.params && validateParams(spec.params),
      spec.query && validateQuery(spec.query),
      spec.body && validateBody(spec.body),
    ].filter((m): m is Koa.Middleware => Boolean(m));
    // spec.auth builds the chain, so the document cannot promise what the route does not do. Who may
    // call decides before what they sent: authentication, the admin check and the per-user limit
    // run before validation, so an anonymous caller learns "unauthorized" before anything else.
    const guard =
      spec.auth === "none"
        ? []
        : [requireAuth(this.access.tokens), ...(spec.auth === "admin" ? [requireAdmin()] : []), this.access.perUser];
    const chain = [...guard, ...(spec.before ?? []), ...validators, ...middleware];
    this.router[spec.method](spec.path, ...(chain as [Koa.Middleware]));
  }

  /** The OpenAPI 3.1 document of every registered route. */
  document(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const spec of this.specs) {
      const openPath = `/api/v1${spec.path.replace(/:(\w+)/g, "{$1}")}`;
      const parameters = [...schemaParameters(spec.params, "path"), ...schemaParameters(spec.query, "query")];
      const responses = Object.fromEntries(
        Object.entries(spec.responses).map(([status, r]) => [
          status,
          {
            description: r.description,
            ...(r.schema || Number(status) >= 400
              ? { content: { "application/json": { schema: jsonSchema(r.schema ?? ErrorBodySchema, "output") } } }
              : {}),
          },
        ]),
      );
      (paths[openPath] ??= {})[spec.method] = {
        summary: spec.summary,
        tags: [spec.tag],
        ...(spec.auth === "none" ? { security: [] } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(spec.body
          ? {
              requestBody: {
                required: true,
                content: { "application/json": { schema: jsonSchema(spec.body, "input") } },
              },
            }
          : {}),
        responses,
      };
    }
    return {
      openapi: "3.1.0",
      info,
      servers: [{ url: "/" }],
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
      security: [{ bearer: [] }],
      paths,
    };
  }
}

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

function schemaParameters(schema: z.ZodType | undefined, where: "path" | "query"): Array<Record<string, unknown>> {
  if (!schema) return [];
  const json = jsonSchema(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: s,
  }));
}
