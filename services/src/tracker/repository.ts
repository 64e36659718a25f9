import type { Database, Param } from "../platform/db";
import type { StatRow } from "./aggregate";

/** Totals for one (type, subject). */
export interface StatTotals {
  total: number;
  /** The most recent minutes first: ISO minute → count. */
  minutes: Array<{ minute: string; count: number }>;
}

// Rows per INSERT statement: keeps each statement well under max_allowed_packet.
const ROWS_PER_STATEMENT = 500;
const RECENT_MINUTES = 60;

/** SQL for tracking_stats. */
export class TrackingStatsRepository {
  constructor(private readonly db: Database) {}

  /** Add every row's count in one transaction (all or nothing). */
  async addCounts(rows: StatRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction(null, async (tx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
        const params: Param[] = chunk.flatMap((r) => [r.type, r.subject, r.minute, r.count]);
        await tx.query(
          `INSERT INTO tracking_stats (event_type, subject, minute, count)
           VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(", ")}
           ON DUPLICATE KEY UPDATE count = count + VALUES(count)`,
          params,
        );
      }
    });
  }

  /** Totals and the most recent minutes for one (type, subject), read from a replica. */
  async totals(type: string, subject: string): Promise<StatTotals> {
    const [sums, recent] = await Promise.all([
      this.db.read<{ total: number | string }>(
        "SELECT CAST(COALESCE(SUM(count), 0) AS UNSIGNED) AS total FROM tracking_stats WHERE event_type = ? AND subject = ?",
        [type, subject],
      ),
      this.db.read<{ minuteIso: string; count: number | string }>(
        `SELECT DATE_FORMAT(minute, '%Y-%m-%dT%H:%i:00Z') AS minuteIso, count
           FROM tracking_stats
          WHERE event_type = ? AND subject = ?
          ORDER BY minute DESC
          LIMIT ${RECENT_MINUTES}`,
        [type, subject],
      ),
    ]);
    return {
      total: Number(sums[0]?.total ?? 0),
      minutes: recent.map((r) => ({ minute: r.minuteIso, count: Number(r.count) })),
    };
  }

  /** True when the primary answers. */
  async ping(): Promise<void> {
    await this.db.writer.query("SELECT 1");
  }
}
