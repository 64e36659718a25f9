import { gzipSync } from "node:zlib";
import type { Database } from "../../platform/db";
import { catalogFileNames, MANIFEST_NAME, renderCatalog } from "./render";
import { latestPublication, listActiveProducts, recordPublication, type PublicationRow } from "./repository";
import type { CatalogVersion, Publication } from "./schema";
import type { StaticBucket } from "./static-bucket";

/** Where clients find one publication, under the bucket's public URL prefix (ends in "/"). */
export function versionOf(row: PublicationRow, baseUrl: string): CatalogVersion {
  const files = catalogFileNames(row.version);
  return {
    version: row.version,
    manifestUrl: `${baseUrl}${MANIFEST_NAME}`,
    catalogUrl: `${baseUrl}${files.json}`,
    htmlUrl: `${baseUrl}${files.html}`,
    publishedAt: row.publishedAt.toISOString(),
  };
}

/**
 * Render the active products, put the content-hashed files (each with a gzipped copy beside it, which
 * the nginx edge serves to clients that accept gzip: the catalog JSON shrinks about fivefold), record
 * the publication, then point the manifest at it — in that order, so nothing ever names a file that
 * is not there yet.
 * Publishing unchanged content rewrites the same bytes (repairing a deleted file) and keeps the
 * original publication time, so the manifest does not change either.
 */
export async function publishCatalog(db: Database, bucket: StaticBucket, baseUrl: string): Promise<Publication> {
  // The primary: a publish right after an edit must include it.
  const products = await listActiveProducts(db, "primary");
  const rendered = renderCatalog({ products });
  const files = catalogFileNames(rendered.version);
  for (const [name, body, type] of [
    [files.json, rendered.json, "application/json"],
    [files.html, rendered.html, "text/html; charset=utf-8"],
  ] as const) {
    await bucket.put(name, body, type);
    await bucket.put(`${name}.gz`, gzipSync(body, { level: 9 }), "application/gzip");
  }

  const latest = await latestPublication(db, "primary");
  const changed = latest?.version !== rendered.version;
  const row: PublicationRow =
    changed || !latest ? { version: rendered.version, productCount: products.length, publishedAt: new Date() } : latest;
  if (changed) await recordPublication(db, row);

  const current = versionOf(row, baseUrl);
  const manifest = {
    version: current.version,
    catalog: current.catalogUrl,
    html: current.htmlUrl,
    publishedAt: current.publishedAt,
  };
  await bucket.put(MANIFEST_NAME, JSON.stringify(manifest), "application/json");
  return { ...current, productCount: row.productCount, changed };
}
