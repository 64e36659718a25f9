/**
 * Whether an If-None-Match header names `etag` (weak comparison, RFC 9110 §13.1.2). Koa's
 * `ctx.fresh` is a cache's rule and ignores the header whenever the request says
 * `Cache-Control: no-cache`, which fetch() adds to every conditional request; an origin server
 * answers the condition regardless.
 */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}
