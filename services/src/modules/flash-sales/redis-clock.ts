/**
 * How far Redis's clock is from this process's, learned from the `TIME` every admission script
 * reports. Redis's clock decides a sale's window (one clock for every API replica); the offset
 * lets this process put a Redis-clock deadline on each script it sends and show a sale's status by
 * the same clock that admits.
 */
export class RedisClock {
  private offset = 0;

  /** Redis's time now, as best this process knows it (its own clock until a first reading). */
  now(): number {
    return Date.now() + this.offset;
  }

  /** Note a Redis `TIME` (ms) a script reported; `receivedAtMs` is this process's clock at its reply. */
  observe(redisMs: number, receivedAtMs = Date.now()): void {
    // The reply travels after TIME was read: the offset comes out low by that trip (sub-ms here).
    if (Number.isFinite(redisMs)) this.offset = redisMs - receivedAtMs;
  }
}
