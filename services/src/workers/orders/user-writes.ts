import type { Platform } from "../../platform/platform";
import { ReadYourWrites } from "../../platform/read-your-writes";
import { RedisBreaker } from "../../platform/redis-breaker";

/**
 * Read-your-writes for every user of a committed batch: `db.transaction` records the GTID of one
 * scope, and a batch commits the orders of many users at once.
 */
export class BatchWrites {
  private readonly ryw: ReadYourWrites;

  constructor(private readonly p: Platform) {
    this.ryw = new ReadYourWrites(p.redis, new RedisBreaker());
  }

  /** Call after the commit: each user's reads then wait for (or skip) replicas that lack it. */
  async recordCommitted(userIds: number[]): Promise<void> {
    if (userIds.length === 0) return;
    // As db.ts does: the binlog position after the commit is never older than the batch's write.
    const [row] = await this.p.db.readPrimary<{ gtid: string | null }>("SELECT @@global.gtid_binlog_pos AS gtid");
    const gtid = String(row?.gtid ?? "");
    if (gtid) await Promise.all(userIds.map((id) => this.ryw.recordWrite(`user:${id}`, gtid)));
  }
}
