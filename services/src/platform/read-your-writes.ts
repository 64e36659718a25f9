import type { Cluster } from "ioredis";
import type { RedisBreaker } from "./redis-breaker";

const WINDOW_MS = 60_000;

/**
 * Remembers, per scope (a user), the GTID of its last write, in Redis so every API replica
 * knows. After WINDOW_MS any healthy replica has long applied it. No in-process copy: another
 * replica may have recorded a newer write, and only Redis knows that.
 */
export class ReadYourWrites {
  constructor(
    private readonly redis: Cluster,
    private readonly breaker: RedisBreaker,
  ) {}

  private key(scope: string): string {
    return `ryw:{${scope}}`;
  }

  /** Record a committed write's GTID for `scope`; false when Redis did not take it (never throws). */
  async recordWrite(scope: string, gtid: string): Promise<boolean> {
    // Tried even while this process's breaker is open: another process whose breaker has closed
    // would otherwise find no mark and read a replica that may not have the write yet. If Redis is
    // really down the mark is lost; reads elsewhere fail over to the primary only while they cannot
    // reach Redis either, and a healthy replica applies a write within milliseconds.
    return this.breaker
      .attempt(() => this.redis.set(this.key(scope), gtid, "PX", WINDOW_MS))
      .then(
        () => true,
        () => false,
      );
  }

  /** The scope's last write GTID; null when none is recent; "unknown" when Redis cannot say. */
  async lastWrite(scope: string): Promise<string | null | "unknown"> {
    try {
      return await this.breaker.run(() => this.redis.get(this.key(scope)));
    } catch {
      return "unknown";
    }
  }
}
