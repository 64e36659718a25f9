import type { NamedCache } from "../../platform/cache";
import { ConflictError, NotFoundError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { publishCatalog, versionOf } from "./publish";
import { findProduct, insertProduct, latestPublication, listActiveProducts, updateProduct } from "./repository";
import type {
  CatalogDocument,
  CatalogProduct,
  CatalogVersion,
  CreateProductReq,
  Product,
  Publication,
  UpdateProductReq,
} from "./schema";
import type { StaticBucket } from "./static-bucket";

const isDuplicate = (err: unknown) => (err as { code?: string }).code === "ER_DUP_ENTRY";
const skuTaken = () => ConflictError("sku_taken", "another product has that SKU");

// Loaders read from a replica in the catalog's read-your-writes scope: after a write, the first
// reload goes to the primary until the replica has caught up, so no stale value refills a cache.
const DOCUMENT_KEY = "all";
const VERSION_KEY = "current";

/** The catalog story: administrators edit products and publish; everyone reads through the caches. */
export class CatalogService {
  private readonly documents: NamedCache<CatalogDocument>;
  private readonly products: NamedCache<CatalogProduct>;
  private readonly versions: NamedCache<CatalogVersion>;

  constructor(
    private readonly p: Platform,
    private readonly bucket: StaticBucket,
  ) {
    this.documents = p.caches.cache<CatalogDocument>("catalog");
    this.products = p.caches.cache<CatalogProduct>("catalog-product");
    this.versions = p.caches.cache<CatalogVersion>("catalog-version");
  }

  /** Create a product (active); 409 sku_taken. */
  async createProduct(req: CreateProductReq): Promise<Product> {
    let id: number;
    try {
      id = await insertProduct(this.p.db, { ...req, description: req.description ?? "" });
    } catch (err) {
      if (isDuplicate(err)) throw skuTaken();
      throw err;
    }
    // The id may have been looked up (and cached as missing) before it existed.
    await Promise.all([this.products.invalidate(id), this.documents.invalidate(DOCUMENT_KEY)]);
    return this.adminProduct(id);
  }

  /** Change some fields of a product; 404 not_found, 409 sku_taken. */
  async updateProduct(id: number, changes: UpdateProductReq): Promise<Product> {
    if (!(await findProduct(this.p.db, id, "primary"))) throw NotFoundError("no such product");
    try {
      await updateProduct(this.p.db, id, changes);
    } catch (err) {
      if (isDuplicate(err)) throw skuTaken();
      throw err;
    }
    await Promise.all([this.products.invalidate(id), this.documents.invalidate(DOCUMENT_KEY)]);
    return this.adminProduct(id);
  }

  private async adminProduct(id: number): Promise<Product> {
    const product = await findProduct(this.p.db, id, "primary");
    if (!product) throw NotFoundError("no such product");
    return product;
  }

  /** The catalog document of every active product (what the static file holds once published). */
  async catalog(): Promise<CatalogDocument> {
    const doc = await this.documents.get(DOCUMENT_KEY, async () => ({
      products: await listActiveProducts(this.p.db, "replica"),
    }));
    return doc ?? { products: [] };
  }

  /** One active product; 404 not_found for unknown and inactive ones. */
  async product(id: number): Promise<CatalogProduct> {
    const product = await this.products.get(id, async () => {
      const found = await findProduct(this.p.db, id, "replica");
      if (!found?.active) return null;
      return {
        id: found.id,
        sku: found.sku,
        name: found.name,
        description: found.description,
        priceCents: found.priceCents,
      };
    });
    if (!product) throw NotFoundError("no such product");
    return product;
  }

  /** The current publication; 404 not_found before the first publish. */
  async version(): Promise<CatalogVersion> {
    const current = await this.versions.get(VERSION_KEY, async () => {
      const row = await latestPublication(this.p.db, "replica");
      return row ? versionOf(row, this.p.config.STATIC_BASE_URL) : null;
    });
    if (!current) throw NotFoundError("the catalog has not been published yet");
    return current;
  }

  /** Publish the active products to the static bucket (idempotent), then drop the cached version and document. */
  async publish(): Promise<Publication> {
    const publication = await publishCatalog(this.p.db, this.bucket, this.p.config.STATIC_BASE_URL);
    await Promise.all([this.versions.invalidate(VERSION_KEY), this.documents.invalidate(DOCUMENT_KEY)]);
    return publication;
  }
}
