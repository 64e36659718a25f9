import { purchaseRequestId } from "../../services/src/modules/flash-sales/request-id";
import { keyCheck, type KeyedPurchase } from "./key-invariants";

const SALE = 9;
const keyA = "11111111-1111-4111-8111-111111111111";
const keyB = "22222222-2222-4222-8222-222222222222";
const ridA = purchaseRequestId(SALE, 1, keyA);
const ridB = purchaseRequestId(SALE, 2, keyB);
const stray = "00000000-0000-4000-8000-000000000000";
const clients = (a: string[], b: string[]): KeyedPurchase[] => [
  { key: keyA, userId: 1, requestIds: a },
  { key: keyB, userId: 2, requestIds: b },
];

describe("keyCheck", () => {
  it.each([
    [
      "each key its derived requestId, one order each",
      true,
      clients([ridA, ridA], [ridB]),
      [
        [ridA, 1],
        [ridB, 1],
      ],
    ],
    ["a key without any 202 and no order (sold out)", true, clients([ridA], []), [[ridA, 1]]],
    ["a retry answered another requestId", false, clients([ridA, ridB], [ridB]), [[ridA, 1]]],
    [
      "an order of a request no client's key names",
      false,
      clients([ridA], [ridB]),
      [
        [ridA, 1],
        [stray, 1],
      ],
    ],
    ["two orders for one request", false, clients([ridA], []), [[ridA, 2]]],
  ] as Array<[string, boolean, KeyedPurchase[], Array<[string, number]>]>)("%s → ok %s", (_, ok, purchases, orders) => {
    expect(keyCheck(SALE, purchases, new Map(orders)).ok).toBe(ok);
  });
});
