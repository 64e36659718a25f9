import type { PersistOutcome } from "../../modules/red-packets/grab-ledger";
import { parseGrabItem, type GrabItem } from "../../modules/red-packets/keys";
import { zip } from "../../platform/checked";

/** A claimed queue item that parsed as a grab. */
export interface ClaimedGrab {
  item: string;
  grab: GrabItem;
}

/** Claimed items split into the grabs to persist and the malformed ones (for the dead list). */
export function sortClaimed(items: string[]): { valid: ClaimedGrab[]; malformed: string[] } {
  const valid: ClaimedGrab[] = [];
  const malformed: string[] = [];
  for (const item of items) {
    const grab = parseGrabItem(item);
    if (grab) valid.push({ item, grab });
    else malformed.push(item);
  }
  return { valid, malformed };
}

/**
 * What became of one grab: committed now or before (`persisted`, `duplicate`: the grabber is
 * credited), refused by MySQL's guards (`rejected`: to the dead list), or not persisted (`retry`:
 * it stays in processing and the reaper requeues it after its timeout).
 */
export type GrabFate =
  | { kind: "persisted" | "duplicate" | "rejected"; claimed: ClaimedGrab }
  | { kind: "retry"; claimed: ClaimedGrab; err: Error };

/** Each grab's fate from persistGrabs' outcomes (in the same order). */
export function grabFates(valid: ClaimedGrab[], outcomes: Array<PersistOutcome | Error>): GrabFate[] {
  return zip(valid, outcomes, "the grabs and their outcomes").map(([claimed, outcome]) =>
    outcome instanceof Error ? { kind: "retry", claimed, err: outcome } : { kind: outcome, claimed },
  );
}

/**
 * What leaves processing, in one SETTLE script: every committed grab, and the malformed and refused
 * ones onto the dead list. A grab to retry stays where it is.
 */
export function settlement(malformed: string[], fates: GrabFate[]): Array<{ item: string; dead: boolean }> {
  return [
    ...malformed.map((item) => ({ item, dead: true })),
    ...fates.flatMap((f) => (f.kind === "retry" ? [] : [{ item: f.claimed.item, dead: f.kind === "rejected" }])),
  ];
}
