import { createHash } from "node:crypto";
import type { CatalogDocument } from "./schema";

/** A catalog rendered for the static bucket: the version names both files. */
export interface RenderedCatalog {
  /** First 16 hex digits of the JSON's SHA-256: changes exactly when the content does. */
  version: string;
  json: string;
  html: string;
}

/** File names of one version in the bucket; the hash in the name lets the edge cache them forever. */
export function catalogFileNames(version: string): { json: string; html: string } {
  return { json: `catalog.${version}.json`, html: `catalog.${version}.html` };
}

/** The stable, short-TTL name that points at the current version. */
export const MANIFEST_NAME = "manifest.json";

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
const price = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;

/** Render the document as JSON (the exact bytes the API serves) and a small HTML page, named by the JSON's hash. */
export function renderCatalog(doc: CatalogDocument): RenderedCatalog {
  const json = JSON.stringify(doc);
  const version = createHash("sha256").update(json).digest("hex").slice(0, 16);
  const rows = doc.products
    .map(
      (p) =>
        `      <tr><td>${escapeHtml(p.sku)}</td><td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.description)}</td><td>${price(p.priceCents)}</td></tr>`,
    )
    .join("\n");
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Catalog ${version}</title>
  </head>
  <body>
    <h1>Catalog</h1>
    <table>
      <tr><th>SKU</th><th>Name</th><th>Description</th><th>Price</th></tr>
${rows}
    </table>
  </body>
</html>
`;
  return { version, json, html };
}
