import type { SaleRow } from "./repository";

/**
 * How long after it is sent an admission script may still admit (Redis's clock): below the API's
 * Redis commandTimeout (500 ms, platform/redis.ts), so a script that runs later — held by a frozen
 * master, or re-sent by ioredis after a failover — is one the API has already answered 503 for.
 */
export const ADMIT_FRESH_MS = 400;

/**
 * The Redis-clock deadline of an admission script: ADMIT_FRESH_MS after the caller's `sentAtMs`,
 * moved on by how long the call waited for its batch (`nowMs − calledAtMs`: a batch may wait for the
 * previous one's WAIT, and ioredis's timeout starts when it is sent) and put on Redis's clock
 * (`redisNowMs − nowMs`, the offset the clock learned).
 */
export function admissionDeadline(t: {
  sentAtMs: number;
  calledAtMs: number;
  nowMs: number;
  redisNowMs: number;
}): number {
  return t.sentAtMs + (t.nowMs - t.calledAtMs) + (t.redisNowMs - t.nowMs) + ADMIT_FRESH_MS;
}

/** A reservation: "userId|seq|admittedAtMs" parsed. */
export interface Reservation {
  userId: number;
  seq: number;
  admittedAtMs: number;
}

/** Parse "userId|seq|admittedAtMs"; fewer fields throw: the scripts never write such a reservation. */
export function parseReservation(raw: string): Reservation {
  const [userId, seq, at] = raw.split("|").map(Number);
  if (userId === undefined || seq === undefined || at === undefined)
    throw new Error(`a reservation is "userId|seq|admittedAtMs", got ${JSON.stringify(raw)}`);
  return { userId, seq, admittedAtMs: at };
}

/**
 * A request Redis admitted now or knew already: its reservation (null when Redis only knows its
 * order), whether MySQL has decided it (`settled`: confirmed or failed), and whether a replica
 * acknowledged the script before the answer (`replicated`).
 */
export interface Known {
  outcome: "admitted" | "duplicate";
  requestId: string;
  reservation: Reservation | null;
  settled: boolean;
  replicated: boolean;
}

/** Why the admission script admitted nothing (`missing`: Redis does not know the sale; `stale`: it ran too late). */
export type Refusal = "missing" | "key_reused" | "stale" | "not_started" | "ended" | "limit_reached" | "sold_out";

/** What the admission script decided. */
export type Admission = Known | { outcome: Refusal };

const REFUSALS: ReadonlySet<string> = new Set<Refusal>([
  "missing",
  "key_reused",
  "stale",
  "not_started",
  "ended",
  "limit_reached",
  "sold_out",
]);

/**
 * The admission script's reply `[outcome, nowMs, requestId, reservation, settled]` (scripts.ts
 * ADMIT) as an Admission, with the Redis clock reading it carries. An outcome the script never
 * answers throws: the reply is not what this code was written against.
 */
export function parseAdmission(reply: unknown, replicated: boolean): { admission: Admission; redisNowMs: number } {
  const [outcome, nowMs, requestId, reservation, settled] = reply as Array<string | undefined>;
  const redisNowMs = Number(nowMs);
  if (outcome === "admitted" || outcome === "duplicate")
    return {
      admission: {
        outcome,
        requestId: String(requestId),
        reservation: reservation ? parseReservation(reservation) : null,
        settled: settled === "1",
        replicated,
      },
      redisNowMs,
    };
  if (outcome !== undefined && REFUSALS.has(outcome)) return { admission: { outcome: outcome as Refusal }, redisNowMs };
  throw new Error(`the admission script answered ${JSON.stringify(outcome)}`);
}

/** What a request already is in Redis, read without admission (scripts.ts PRIOR). */
export type Prior = "known" | "key_reused" | "new";

/**
 * The answer while this process holds a sale's sold-out flag, from the request's prior state, or
 * null to run admission anyway: a request Redis already knows (a retry after a 503 whose lost answer
 * held a reservation) goes through admission for its reservation and WAIT, never "sold out".
 */
export function soldOutAnswer(prior: Prior): { outcome: "sold_out" | "key_reused" } | null {
  if (prior === "known") return null;
  return { outcome: prior === "new" ? "sold_out" : "key_reused" };
}

/** What the service does after an admission answered: the steps of FlashSaleService.decide. */
export type AdmissionStep = "admit-again" | "load-sale" | "check-own-order" | "answer";

/**
 * The next step after an admission answered `outcome`, given what was tried already:
 * - `stale` the first time means the clock offset was off (it is learned now): admit once more;
 * - `missing` means Redis does not know the sale (never loaded, lost in a failover, or settled and
 *   expired): look it up in MySQL and load it (once; after that `missing` is answered: 404);
 * - `limit_reached` may be the request's own earlier order, its Redis record lost in a failover: MySQL
 *   is asked whether the request has its order (rare, so MySQL can afford the look);
 * - anything else is the answer.
 */
export function afterAdmission(
  outcome: Admission["outcome"],
  tried: { retried: boolean; loaded: boolean },
): AdmissionStep {
  if (outcome === "stale" && !tried.retried && !tried.loaded) return "admit-again";
  if (outcome === "missing" && !tried.loaded) return "load-sale";
  if (outcome === "limit_reached") return "check-own-order";
  return "answer";
}

/**
 * When Redis does not know a sale, from MySQL's row: `not_found` (no such sale); `mysql-only` for an
 * ended sale, which needs Redis no more (MySQL holds every order a retry could be asking about); else
 * `load` the sale into Redis and admit again.
 */
export function whenRedisLacksSale<S extends Pick<SaleRow, "endsAt">>(
  sale: S | null,
  redisNowMs: number,
): { kind: "not_found" } | { kind: "mysql-only" } | { kind: "load"; sale: S } {
  if (!sale) return { kind: "not_found" };
  return sale.endsAt.getTime() <= redisNowMs ? { kind: "mysql-only" } : { kind: "load", sale };
}
