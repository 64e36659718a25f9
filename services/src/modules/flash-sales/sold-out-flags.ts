/**
 * In-process "sold out" flags with a short TTL, so a sold-out sale answers 409 without running the
 * admission script (the service still reads the request's Idempotency-Key: one HGET).
 * Short because the reconciler may hand units back (requests MySQL refused); the flag only ever
 * costs a late buyer a retry, never admits anyone.
 */
export class SoldOutFlags {
  private readonly until = new Map<number, number>();

  constructor(private readonly ttlMs: number) {}

  /** True while `saleId` is flagged (`nowMs`: this process's clock). */
  has(saleId: number, nowMs = Date.now()): boolean {
    const expires = this.until.get(saleId);
    if (expires === undefined) return false;
    if (nowMs < expires) return true;
    this.until.delete(saleId);
    return false;
  }

  /** Flag `saleId` for the TTL from `nowMs`. */
  set(saleId: number, nowMs = Date.now()): void {
    this.until.set(saleId, nowMs + this.ttlMs);
  }
}
