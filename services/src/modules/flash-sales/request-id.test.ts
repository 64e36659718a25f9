import { purchaseRequestId } from "./request-id";
import { PurchaseParamsSchema } from "./schema";

const key = "0b9c7a52-3f1e-4c8d-9a6b-5e2f1d0c3b4a";

describe("purchaseRequestId", () => {
  it.each([
    ["the same sale, user and key", [7, 42, key], true],
    ["the same key in upper case (one UUID, two spellings)", [7, 42, key.toUpperCase()], true],
    ["another sale", [8, 42, key], false],
    ["another user (one key sent by two users names two requests)", [7, 43, key], false],
    ["another key", [7, 42, "0b9c7a52-3f1e-4c8d-9a6b-5e2f1d0c3b4b"], false],
    ["digits that would run together without a separator (sale 74, user 2)", [74, 2, key], false],
  ] as Array<[string, [number, number, string], boolean]>)("%s → same requestId: %s", (_, args, same) => {
    expect(purchaseRequestId(...args) === purchaseRequestId(7, 42, key)).toBe(same);
  });

  it.each([
    [1, 1, key],
    [123456789, 987654321, "ffffffff-ffff-4fff-bfff-ffffffffffff"],
    [7, 42, "00000000-0000-4000-8000-000000000000"],
  ])("sale %d, user %d: a version-8 UUID the API's schemas accept", (saleId, userId, k) => {
    const id = purchaseRequestId(saleId, userId, k);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id).toHaveLength(36); // orders.request_id is CHAR(36)
    expect(PurchaseParamsSchema.safeParse({ id: "1", requestId: id }).success).toBe(true);
  });

  it("is stable across releases: a key's requestId must not change under a client retrying it", () => {
    expect(purchaseRequestId(7, 42, key)).toBe(purchaseRequestId(7, 42, key));
    expect(purchaseRequestId(1, 1, "00000000-0000-4000-8000-000000000000")).toMatchInlineSnapshot(
      `"0ad6b8c5-4e76-8514-97f1-3d09929373bc"`,
    );
  });
});
