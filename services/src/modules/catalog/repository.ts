import type { ResultSetHeader } from "mysql2";
import type { Database, Param } from "../../platform/db";
import type { CatalogProduct, Product, UpdateProductReq } from "./schema";

/**
 * Read-your-writes scope of every catalog write: a read in this scope goes to a replica only once
 * it has applied the last catalog write, so a cache refilled right after a write is not stale.
 */
export const CATALOG_SCOPE = "catalog";

/** The latest catalog_publications row. */
export interface PublicationRow {
  version: string;
  productCount: number;
  publishedAt: Date;
}

type ProductRow = Omit<Product, "active" | "updatedAt"> & { active: number; updatedAt: Date };

const PRODUCT_COLUMNS = "id, sku, name, description, price_cents AS priceCents, active, updated_at AS updatedAt";
const toProduct = (r: ProductRow): Product => ({
  ...r,
  id: Number(r.id),
  priceCents: Number(r.priceCents),
  active: r.active === 1,
  updatedAt: r.updatedAt.toISOString(),
});

// PATCH fields → columns: the only columns an update may touch.
const UPDATABLE: Record<keyof UpdateProductReq, string> = {
  sku: "sku",
  name: "name",
  description: "description",
  priceCents: "price_cents",
  active: "active",
};

/** Insert a product; returns its id. Throws ER_DUP_ENTRY for a taken SKU. */
export async function insertProduct(
  db: Database,
  p: { sku: string; name: string; description: string; priceCents: number },
): Promise<number> {
  const result = await db.write<ResultSetHeader>(
    CATALOG_SCOPE,
    "INSERT INTO products (sku, name, description, price_cents) VALUES (?, ?, ?, ?)",
    [p.sku, p.name, p.description, p.priceCents],
  );
  return result.insertId;
}

/** Update the given fields of a product. Throws ER_DUP_ENTRY for a taken SKU. */
export async function updateProduct(db: Database, id: number, changes: UpdateProductReq): Promise<void> {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined) as Array<[keyof UpdateProductReq, Param]>;
  if (entries.length === 0) return;
  await db.write(
    CATALOG_SCOPE,
    `UPDATE products SET ${entries.map(([k]) => `${UPDATABLE[k]} = ?`).join(", ")} WHERE id = ?`,
    [...entries.map(([, v]) => v), id],
  );
}

/** One product (active or not), from the primary or from a replica that has the catalog's last write. */
export async function findProduct(db: Database, id: number, from: "primary" | "replica"): Promise<Product | null> {
  const sql = `SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = ?`;
  const rows =
    from === "primary"
      ? await db.readPrimary<ProductRow>(sql, [id])
      : await db.read<ProductRow>(sql, [id], CATALOG_SCOPE);
  return rows[0] ? toProduct(rows[0]) : null;
}

/** Every active product, by id, as the public catalog shows it. */
export async function listActiveProducts(db: Database, from: "primary" | "replica"): Promise<CatalogProduct[]> {
  const sql = `SELECT id, sku, name, description, price_cents AS priceCents FROM products WHERE active = 1 ORDER BY id`;
  const rows =
    from === "primary"
      ? await db.readPrimary<CatalogProduct>(sql)
      : await db.read<CatalogProduct>(sql, [], CATALOG_SCOPE);
  return rows.map((r) => ({ ...r, id: Number(r.id), priceCents: Number(r.priceCents) }));
}

/** The most recent publication, or null before the first. */
export async function latestPublication(db: Database, from: "primary" | "replica"): Promise<PublicationRow | null> {
  const sql = `SELECT version, product_count AS productCount, published_at AS publishedAt
                 FROM catalog_publications ORDER BY published_at DESC, version LIMIT 1`;
  const rows =
    from === "primary"
      ? await db.readPrimary<PublicationRow>(sql)
      : await db.read<PublicationRow>(sql, [], CATALOG_SCOPE);
  return rows[0] ? { ...rows[0], productCount: Number(rows[0].productCount) } : null;
}

/** Record a publication as the latest (a version published before moves to the front again). */
export async function recordPublication(db: Database, row: PublicationRow): Promise<void> {
  await db.write(
    CATALOG_SCOPE,
    `INSERT INTO catalog_publications (version, product_count, published_at) VALUES (?, ?, ?)
     ON DUPLICATE KEY UPDATE product_count = VALUES(product_count), published_at = VALUES(published_at)`,
    [row.version, row.productCount, row.publishedAt],
  );
}
