import Router from "@koa/router";
import type Koa from "koa";
import { z } from "zod";
import { validateBody, validateParams, validateQuery } from "./validate";

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
  /** Status → description and optional body schema. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
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

  /** Register a documented route; middleware runs after validation, in order. */
  route(spec: RouteSpec, ...middleware: Koa.Middleware[]): void {
    // The document promises what spec.auth says; refuse at start-up a route whose chain disagrees.
    const authenticates = middleware[0]?.name === "authenticated";
    if (authenticates !== (spec.auth !== "none") || middleware.slice(1).some((m) => m.name === "authenticated")) {
      throw new Error(
        `${spec.method.toUpperCase()} ${spec.path}: auth "${spec.auth}" needs requireAuth() first (and only) when not "none"`,
      );
    }
    const adminOnly = middleware.some((m) => m.name === "adminOnly");
    if (adminOnly !== (spec.auth === "admin")) {
      throw new Error(`${spec.method.toUpperCase()} ${spec.path}: auth "${spec.auth}" and requireAdmin() disagree`);
    }
    this.specs.push(spec);
    const validators = [
      spec.params && validateParams(spec.params),
      spec.query && validateQuery(spec.query),
      spec.body && validateBody(spec.body),
    ].filter((m): m is Koa.Middleware => Boolean(m));
    // Auth middleware comes first in `middleware` by convention; validation after it, so an
    // anonymous caller learns "unauthorized" before anything about the body.
    // Who may call decides before what they sent: the admin check is hoisted next to authentication,
    // so a non-admin gets 403 whatever the body.
    const [first, ...others] = middleware;
    const admin = others.filter((m) => m.name === "adminOnly");
    const rest = others.filter((m) => m.name !== "adminOnly");
    const before = spec.before ?? [];
    const chain =
      spec.auth === "none"
        ? [...before, ...validators, ...middleware]
        : [first, ...admin, ...before, ...validators, ...rest];
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
