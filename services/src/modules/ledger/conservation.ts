import type { RowDataPacket } from "mysql2";
import type { Connection } from "mysql2/promise";
import { first } from "../../platform/checked";
import type { Conservation } from "./schema";

/**
 * Money conservation, read in one consistent snapshot: every balance equals the sum of its ledger
 * rows, and the money top-ups brought in (plus the opening balances of migration 002) is exactly
 * what balances and not-yet-refunded red packets hold — a packet's debit is either still in it
 * (remaining_cents, which covers grabs admitted in Redis and not yet persisted), in its grabbers'
 * balances, or refunded to its creator. Scans users and the ledger: a periodic job, not a hot path.
 * Call it inside a REPEATABLE READ transaction (MariaDB's default): its reads then share the
 * snapshot the first one takes, so writes committing meanwhile cannot show as an imbalance.
 */
export async function readConservation(conn: Pick<Connection, "query">): Promise<Conservation> {
  const [sums] = await conn.query<RowDataPacket[]>(
    `SELECT (SELECT COALESCE(SUM(balance_cents), 0) FROM users) AS balances,
            (SELECT COALESCE(SUM(remaining_cents), 0) FROM red_packets WHERE refunded_at IS NULL) AS held,
            (SELECT COALESCE(SUM(amount_cents), 0) FROM ledger WHERE kind IN ('top_up', 'opening')) AS minted`,
  );
  const [counts] = await conn.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS mismatched FROM users u
       LEFT JOIN (SELECT user_id, SUM(amount_cents) AS total FROM ledger GROUP BY user_id) l ON l.user_id = u.id
      WHERE u.balance_cents <> COALESCE(l.total, 0)`,
  );
  const totals = first(sums, "the money totals");
  const accounts = first(counts, "the count of mismatched accounts");
  const balancesCents = Number(totals.balances);
  const heldCents = Number(totals.held);
  const mintedCents = Number(totals.minted);
  return {
    balancesCents,
    heldCents,
    mintedCents,
    imbalanceCents: mintedCents - balancesCents - heldCents,
    accountsMismatched: Number(accounts.mismatched),
  };
}
