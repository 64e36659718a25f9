import { Gauge } from "prom-client";
import { readConservation } from "../../modules/ledger/conservation";
import type { Database } from "../../platform/db";
import type { Logger } from "../../platform/log";
import { every, type Periodic } from "../periodic";

/** How often the workers check that money is conserved (each check scans users and the ledger). */
export const CONSERVATION_INTERVAL_MS = 60_000;

/** What the LedgerImbalance alert watches: minted − balances − held, in cents (zero when conserved). */
export const ledgerImbalance = new Gauge({
  name: "floodgate_ledger_imbalance_cents",
  help: "Top-ups minus balances minus money held in unrefunded red packets, at the last conservation check",
});
/** Users whose balance differs from the sum of their ledger rows, at the last check. */
export const ledgerAccountsMismatched = new Gauge({
  name: "floodgate_ledger_accounts_mismatched",
  help: "Users whose balance differs from the sum of their ledger rows, at the last conservation check",
});
/** When the last check finished (unix seconds): a stale value means the check is not running. */
export const ledgerCheckedAt = new Gauge({
  name: "floodgate_ledger_checked_timestamp_seconds",
  help: "Unix time of the last completed conservation check",
});

/** Check conservation once, in one consistent snapshot, and export the result. */
export async function checkConservationOnce(db: Database, log: Logger): Promise<void> {
  const result = await db.transaction(null, (tx) => readConservation(tx));
  ledgerImbalance.set(result.imbalanceCents);
  ledgerAccountsMismatched.set(result.accountsMismatched);
  ledgerCheckedAt.set(Date.now() / 1000);
  if (result.imbalanceCents !== 0 || result.accountsMismatched !== 0) log.error(result, "money is not conserved");
}

/** Check money conservation every `intervalMs` (and once at start). */
export function startConservationJob(db: Database, log: Logger, intervalMs = CONSERVATION_INTERVAL_MS): Periodic {
  void checkConservationOnce(db, log).catch((err: Error) =>
    log.warn({ err: err.message }, "conservation check failed"),
  );
  return every(intervalMs, "conservation check", log, () => checkConservationOnce(db, log));
}
