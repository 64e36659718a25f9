import { z } from "zod";
import { PositiveIdParam } from "../../platform/validate";

const SkuSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'" });
const NameSchema = z.string().trim().min(1).max(200);
const DescriptionSchema = z.string().max(2000);
// Up to 10^11 cents: far above any real price, far below 2^53, so JSON numbers stay exact.
const PriceCentsSchema = z.number().int().min(0).max(100_000_000_000);

/** POST /admin/products body. Strict: unknown fields are a client error, not silently dropped. */
export const CreateProductSchema = z.strictObject({
  sku: SkuSchema,
  name: NameSchema,
  description: DescriptionSchema.optional(),
  priceCents: PriceCentsSchema,
});
/** POST /admin/products body type. */
export type CreateProductReq = z.infer<typeof CreateProductSchema>;

/** PATCH /admin/products/:id body: any subset of the fields, at least one. */
export const UpdateProductSchema = z
  .strictObject({
    sku: SkuSchema.optional(),
    name: NameSchema.optional(),
    description: DescriptionSchema.optional(),
    priceCents: PriceCentsSchema.optional(),
    active: z.boolean().optional(),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), { error: "change at least one field" });
/** PATCH /admin/products/:id body type. */
export type UpdateProductReq = z.infer<typeof UpdateProductSchema>;

/** `:id` path parameter: a positive decimal integer (no signs, exponents or leading zeros). */
export const ProductIdParamsSchema = z.object({ id: PositiveIdParam });
/** `:id` path parameter type. */
export type ProductIdParams = z.infer<typeof ProductIdParamsSchema>;

/** A product as administrators see it. */
export const ProductSchema = z.object({
  id: z.number().int(),
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  priceCents: z.number().int(),
  active: z.boolean(),
  updatedAt: z.string().describe("ISO 8601"),
});
/** A product as administrators see it. */
export type Product = z.infer<typeof ProductSchema>;

/** A product as the public catalog shows it (the fields that name the static file's hash). */
export const CatalogProductSchema = ProductSchema.pick({
  id: true,
  sku: true,
  name: true,
  description: true,
  priceCents: true,
});
/** A public catalog product. */
export type CatalogProduct = z.infer<typeof CatalogProductSchema>;

/** The catalog document: the same JSON the API serves and the static file holds. */
export const CatalogDocumentSchema = z.object({ products: z.array(CatalogProductSchema) });
/** The catalog document type. */
export type CatalogDocument = z.infer<typeof CatalogDocumentSchema>;

/** The current publication: where clients fetch the catalog, and its version for If-None-Match. */
export const CatalogVersionSchema = z.object({
  version: z.string().regex(/^[0-9a-f]{16}$/),
  manifestUrl: z.string(),
  catalogUrl: z.string(),
  htmlUrl: z.string(),
  publishedAt: z.string().describe("ISO 8601"),
});
/** The current publication type. */
export type CatalogVersion = z.infer<typeof CatalogVersionSchema>;

/** The answer to a publish: the version, and whether it changed anything. */
export const PublicationSchema = CatalogVersionSchema.extend({
  productCount: z.number().int(),
  changed: z.boolean(),
});
/** The answer to a publish. */
export type Publication = z.infer<typeof PublicationSchema>;
