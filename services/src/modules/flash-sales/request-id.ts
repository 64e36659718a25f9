import { createHash } from "node:crypto";

/**
 * The requestId of a purchase: a UUID (version 8, RFC 9562) made of the SHA-256 of
 * (sale, user, Idempotency-Key). Every attempt with the same key — a client's retry, a script
 * ioredis re-sent, a reservation the reconciler restored — names the same request, so MySQL's
 * unique `orders.request_id` makes at most one order per key whatever Redis lost in a failover.
 * The user is part of the input, so one key sent by two users names two requests.
 */
export function purchaseRequestId(saleId: number, userId: number, key: string): string {
  const hash = createHash("sha256")
    .update(`floodgate/flash-sale/v1\n${saleId}\n${userId}\n${key.toLowerCase()}`)
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x80, 6); // version 8: custom (here, name-based on SHA-256)
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8); // the RFC 9562 variant
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
