import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { eventually, testAddresses } from "../../../../test/stack/clients";
import { testLayout, testTopology } from "../../../../test/stack/test-stack";
import { adminToken, buildUser, call, type TestUser } from "../../../../test/support/api";
import type { CatalogDocument, CatalogVersion, Product, Publication } from "./schema";

const a = testAddresses();
const edge = `http://${a.nginx.host}:${a.nginx.port}`;
const buildProduct = (overrides: Record<string, unknown> = {}) => ({
  sku: `SKU-${randomBytes(5).toString("hex")}`,
  name: "Limited sneaker",
  description: "drops at noon",
  priceCents: 12_900,
  ...overrides,
});

describe("catalog", () => {
  let admin: string;
  let user: TestUser;
  const createProduct = async (overrides: Record<string, unknown> = {}) => {
    const res = await call<Product>("POST", "/admin/products", { token: admin, body: buildProduct(overrides) });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const publish = () => call<Publication>("POST", "/admin/catalog/publish", { token: admin });

  beforeAll(async () => {
    admin = await adminToken();
    user = await buildUser();
  });

  describe("POST /admin/products and PATCH /admin/products/:id", () => {
    it("creates a product (201) and changes it (200)", async () => {
      const body = buildProduct();
      const created = await call<Product>("POST", "/admin/products", { token: admin, body });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ ...body, id: expect.any(Number), active: true });

      const changed = await call<Product>("PATCH", `/admin/products/${created.body.id}`, {
        token: admin,
        body: { priceCents: 9900, active: false },
      });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ ...body, id: created.body.id, priceCents: 9900, active: false });
    });

    it("answers 409 sku_taken to a second product with the same SKU, on create and on change", async () => {
      const first = await createProduct();
      const second = await createProduct();

      const dup = await call("POST", "/admin/products", { token: admin, body: buildProduct({ sku: first.sku }) });
      const patch = await call("PATCH", `/admin/products/${second.id}`, { token: admin, body: { sku: first.sku } });

      expect([dup.status, dup.body.error, patch.status, patch.body.error]).toEqual([
        409,
        "sku_taken",
        409,
        "sku_taken",
      ]);
    });

    it("answers 404 not_found to a change of an unknown product", async () => {
      const res = await call("PATCH", "/admin/products/999999999", { token: admin, body: { name: "x" } });
      expect([res.status, res.body.error]).toEqual([404, "not_found"]);
    });

    it.each([
      ["a missing name", { sku: "A-1", priceCents: 1 }],
      ["a negative price", buildProduct({ priceCents: -1 })],
      ["a fractional price", buildProduct({ priceCents: 1.5 })],
      ["a price as a string", buildProduct({ priceCents: "100" })],
      ["an unknown field", buildProduct({ active: false, stock: 3 })],
      ["a bad SKU", buildProduct({ sku: "has spaces" })],
      ["no body", undefined],
    ])("answers 400 validation_failed to %s", async (_, body) => {
      const res = await call("POST", "/admin/products", { token: admin, body });
      expect([res.status, res.body.error]).toEqual([400, "validation_failed"]);
    });

    it.each([
      ["an empty change", "/admin/products/1", {}],
      ["an unknown field", "/admin/products/1", { stock: 1 }],
      ["a bad id", "/admin/products/abc", { name: "x" }],
    ])("answers 400 validation_failed to a PATCH with %s", async (_, url, body) => {
      const res = await call("PATCH", url, { token: admin, body });
      expect([res.status, res.body.error]).toEqual([400, "validation_failed"]);
    });

    it.each([
      ["POST", "/admin/products", buildProduct()],
      ["PATCH", "/admin/products/1", { name: "x" }],
      ["POST", "/admin/catalog/publish", undefined],
      ["POST", "/admin/products", { sku: "", priceCents: -1, role: "admin" }], // who you are decides before what you sent
    ])("refuses %s %s without a token (401) and to a non-admin (403 admin_only)", async (method, url, body) => {
      const anonymous = await call(method, url, { body });
      const nonAdmin = await call(method, url, { token: user.token, body });

      expect([anonymous.status, anonymous.body.error]).toEqual([401, "unauthorized"]);
      expect([nonAdmin.status, nonAdmin.body.error]).toEqual([403, "admin_only"]);
    });
  });

  describe("POST /admin/catalog/publish and the static files", () => {
    it("publishes content-hashed JSON and HTML that nginx serves as immutable, matching GET /catalog", async () => {
      await createProduct();
      const published = await publish();
      expect([200, 201]).toContain(published.status);
      const { version, catalogUrl, htmlUrl, manifestUrl } = published.body;
      expect(catalogUrl).toBe(`/static/catalog.${version}.json`);

      const file = await fetch(`${edge}${catalogUrl}`);
      expect(file.status).toBe(200);
      expect(file.headers.get("cache-control")).toBe(
        `public, max-age=${testTopology().static.immutableMaxAgeSeconds}, immutable`,
      );
      const api = await eventually(async () => {
        const res = await call<CatalogDocument>("GET", "/catalog");
        return res.body.products.length === published.body.productCount ? res : undefined;
      });
      expect(await file.json()).toEqual(api.body);
      const html = await fetch(`${edge}${htmlUrl}`);
      expect([html.status, html.headers.get("content-type")]).toEqual([200, "text/html"]);

      // A client that accepts gzip gets the publisher's gzipped copy (fetch inflates it); one that
      // does not, the file itself; the same document either way.
      for (const [accept, encoding] of [
        ["gzip", "gzip"],
        ["identity", null],
      ]) {
        const res = await fetch(`${edge}${catalogUrl}`, { headers: { "accept-encoding": accept! } });
        expect([res.status, res.headers.get("content-encoding"), res.headers.get("vary")]).toEqual([
          200,
          encoding,
          "Accept-Encoding",
        ]);
        expect(await res.json()).toEqual(api.body);
      }

      const manifest = await fetch(`${edge}${manifestUrl}`);
      expect(manifest.headers.get("cache-control")).toBe(
        `public, max-age=${testTopology().static.manifestMaxAgeSeconds}`,
      );
      expect(await manifest.json()).toEqual({
        version,
        catalog: catalogUrl,
        html: htmlUrl,
        publishedAt: published.body.publishedAt,
      });
    });

    it("is idempotent when nothing changed, and gives a new version and file after a price change", async () => {
      const product = await createProduct();
      const first = await publish();
      const again = await publish();
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ ...first.body, changed: false });

      await call("PATCH", `/admin/products/${product.id}`, {
        token: admin,
        body: { priceCents: product.priceCents + 1 },
      });
      const next = await publish();

      expect(next.status).toBe(201);
      expect(next.body.version).not.toBe(first.body.version);
      const newFile = (await (await fetch(`${edge}${next.body.catalogUrl}`)).json()) as CatalogDocument;
      expect(newFile.products.find((p) => p.id === product.id)?.priceCents).toBe(product.priceCents + 1);
      expect((await fetch(`${edge}${first.body.catalogUrl}`)).status).toBe(200); // old clients keep their file
    });

    it("keeps GET /catalog working when the static file is gone", async () => {
      const product = await createProduct();
      const published = await publish();
      const file = path.join(testLayout().staticRoot, path.basename(published.body.catalogUrl));
      for (const gone of [file, `${file}.gz`]) fs.rmSync(gone);
      expect((await fetch(`${edge}${published.body.catalogUrl}`)).status).toBe(404);

      const res = await call<CatalogDocument>("GET", "/catalog");

      expect(res.status).toBe(200);
      expect(res.body.products.map((p) => p.id)).toContain(product.id);
      expect((await publish()).status).toBe(200); // republishing the same content restores the file
      expect((await fetch(`${edge}${published.body.catalogUrl}`)).status).toBe(200);
    });
  });

  describe("GET /catalog/version", () => {
    it("answers with an ETag, 304 for a matching If-None-Match, and the new version after a publish", async () => {
      await createProduct();
      const published = await publish();
      const current = await eventually(async () => {
        const res = await call<CatalogVersion>("GET", "/catalog/version");
        return res.body.version === published.body.version ? res : undefined;
      });
      expect(current.headers.get("etag")).toBe(`"${published.body.version}"`);
      expect(current.body).toEqual({
        version: published.body.version,
        manifestUrl: "/static/manifest.json",
        catalogUrl: published.body.catalogUrl,
        htmlUrl: published.body.htmlUrl,
        publishedAt: published.body.publishedAt,
      });

      const unchanged = await call("GET", "/catalog/version", {
        headers: { "if-none-match": `"${published.body.version}"` },
      });
      expect([unchanged.status, unchanged.body]).toEqual([304, null]);

      await createProduct();
      const next = await publish();
      const changed = await eventually(async () => {
        const res = await call<CatalogVersion>("GET", "/catalog/version", {
          headers: { "if-none-match": `"${published.body.version}"` },
        });
        return res.status === 200 && res.body.version === next.body.version ? res : undefined;
      });
      expect(changed.headers.get("etag")).toBe(`"${next.body.version}"`);
    });
  });

  describe("GET /catalog/products/:id", () => {
    it("answers an active product, 404 not_found for unknown and hidden ones, 400 for a bad id", async () => {
      const product = await createProduct();
      const hidden = await createProduct();
      await call("PATCH", `/admin/products/${hidden.id}`, { token: admin, body: { active: false } });

      const found = await call("GET", `/catalog/products/${product.id}`);
      const unknown = await call("GET", "/catalog/products/999999999");
      const gone = await call("GET", `/catalog/products/${hidden.id}`);
      const bad = await call("GET", "/catalog/products/1e3");

      expect(found).toMatchObject({
        status: 200,
        body: { id: product.id, sku: product.sku, priceCents: product.priceCents },
      });
      expect([unknown.status, unknown.body.error, gone.status, gone.body.error]).toEqual([
        404,
        "not_found",
        404,
        "not_found",
      ]);
      expect([bad.status, bad.body.error]).toEqual([400, "validation_failed"]);
    });
  });
});
