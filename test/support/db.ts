import { randomBytes } from "node:crypto";
import type { ResultSetHeader } from "mysql2";
import { mysqlAs, testAddresses } from "../stack/clients";

/** Run statements on the test stack's primary as the migrator (for arranging data directly). */
export async function onPrimary<T>(fn: (conn: Awaited<ReturnType<typeof mysqlAs>>) => Promise<T>): Promise<T> {
  const conn = await mysqlAs("migrator", testAddresses().mysqlPrimary);
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

/** Insert an active product straight into the database; returns its id. */
export async function buildProduct(
  overrides: { priceCents?: number; name?: string } = {},
): Promise<{ id: number; priceCents: number }> {
  const priceCents = overrides.priceCents ?? 1999;
  const id = await onPrimary(async (conn) => {
    const [result] = await conn.execute<ResultSetHeader>(
      "INSERT INTO products (sku, name, price_cents) VALUES (?, ?, ?)",
      [`sku-${randomBytes(6).toString("hex")}`, overrides.name ?? "Test product", priceCents],
    );
    return result.insertId;
  });
  return { id, priceCents };
}
