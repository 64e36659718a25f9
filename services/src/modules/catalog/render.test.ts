import { catalogFileNames, renderCatalog } from "./render";
import type { CatalogDocument } from "./schema";

const buildDocument = (priceCents = 1999): CatalogDocument => ({
  products: [{ id: 1, sku: "TEE-1", name: "Tee", description: "cotton", priceCents }],
});

describe("renderCatalog", () => {
  it("serialises the document exactly and names it by the first 16 hex digits of its SHA-256", () => {
    const rendered = renderCatalog(buildDocument());

    expect(JSON.parse(rendered.json)).toEqual(buildDocument());
    expect(rendered.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it("keeps the version for the same content and changes it with any change", () => {
    expect(renderCatalog(buildDocument()).version).toBe(renderCatalog(buildDocument()).version);
    expect(renderCatalog(buildDocument(2000)).version).not.toBe(renderCatalog(buildDocument()).version);
  });

  it("escapes product text in the HTML page", () => {
    const doc = {
      products: [{ id: 2, sku: "X", name: '<script>alert("x")</script>', description: "a & b", priceCents: 5 }],
    };

    const { html } = renderCatalog(doc);

    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("a &amp; b");
    expect(html).toContain("<td>0.05</td>");
    expect(html).not.toContain("<script>");
  });
});

describe("catalogFileNames", () => {
  it("puts the version in both names, in the shape the edge caches as immutable", () => {
    expect(catalogFileNames("0123456789abcdef")).toEqual({
      json: "catalog.0123456789abcdef.json",
      html: "catalog.0123456789abcdef.html",
    });
  });
});
