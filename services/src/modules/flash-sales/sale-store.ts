import type { Cluster } from "ioredis";
import { evalScript } from "../../platform/lua";
import { ReplicatedTurnBatcher } from "../../platform/replicated-batch";
import type { SaleRow } from "./repository";
import { saleKeys, scriptKeys } from "./keys";
import { RedisClock } from "./redis-clock";
import { ADMIT, EXPIRE_SALE, LOAD, PRIOR, RECORD, REPAIR, STATUS } from "./scripts";

/**
 * How long after it is sent an admission script may still admit (Redis's clock): below the API's
 * Redis commandTimeout (500 ms, platform/redis.ts), so a script that runs later — held by a frozen
 * master, or re-sent by ioredis after a failover — is one the API has already answered 503 for.
 */
export const ADMIT_FRESH_MS = 400;

/** A reservation: "userId|seq|admittedAtMs" parsed. */
export interface Reservation {
  userId: number;
  seq: number;
  admittedAtMs: number;
}

/**
 * What the admission script decided. `admitted` and `duplicate` carry the request's reservation
 * (null when Redis only knows its order), whether MySQL has decided it (`settled`: confirmed or
 * failed), and whether a replica acknowledged the script before the answer (`replicated`).
 */
export type Admission =
  | {
      outcome: "admitted" | "duplicate";
      requestId: string;
      reservation: Reservation | null;
      settled: boolean;
      replicated: boolean;
    }
  | {
      outcome: "missing" | "key_reused" | "stale" | "not_started" | "ended" | "limit_reached" | "sold_out";
    };

/** A request's state in Redis. */
export interface RequestState {
  reservation: { userId: number; seq: number; admittedAtMs: number } | null;
  orderId: number | null;
  failReason: string | null;
}

/** What REPAIR returned. */
export interface RepairResult {
  restored: number;
  reservations: number;
  failed: number;
  remainingBefore: number | null;
  remainingAfter: number;
}

const rules = (s: SaleRow) => [s.startsAt.getTime(), s.endsAt.getTime(), s.perUserLimit, s.stock].map(String);

/** Parse "userId|seq|admittedAtMs". */
export function parseReservation(raw: string): Reservation {
  const [userId, seq, at] = raw.split("|").map(Number);
  return { userId, seq, admittedAtMs: at };
}

/**
 * A sale's state in Redis: the only code that runs the flash-sale Lua scripts. Admissions are
 * group-committed like red-packet grabs: those of one sale in one event-loop turn go to its master
 * as one pipeline with one `WAIT 1` after them, so each answer says whether a replica holds it.
 */
export class SaleStore {
  /** Redis's clock as this process knows it: admission deadlines and the status of a sale. */
  readonly clock = new RedisClock();
  private readonly admissions: ReplicatedTurnBatcher;

  constructor(private readonly redis: Cluster) {
    this.admissions = new ReplicatedTurnBatcher(redis, ADMIT);
  }

  private run(script: string, saleId: number, args: Array<string | number>): Promise<unknown> {
    return evalScript(this.redis, script, scriptKeys(saleId), args);
  }

  /** Copy a sale's rules and counter into Redis (the counter only when Redis has none). */
  async load(sale: SaleRow): Promise<void> {
    await this.run(LOAD, sale.id, [...rules(sale), sale.remaining]);
  }

  /**
   * Decide one purchase atomically in Redis, by Redis's clock; `sentAtMs` is this process's clock as
   * it sends (the script changes nothing once ADMIT_FRESH_MS have passed on Redis's clock: 'stale').
   */
  async admit(saleId: number, sentAtMs: number, userId: number, key: string, requestId: string): Promise<Admission> {
    // Counted from when its batch is sent (ioredis's timeout starts there), not from the call: a
    // batch may wait for the previous one's WAIT.
    const calledAtMs = Date.now();
    const deadline = () => sentAtMs + (Date.now() - calledAtMs) + (this.clock.now() - Date.now()) + ADMIT_FRESH_MS;
    const { value, replicated } = await this.admissions.run(scriptKeys(saleId), () => [
      deadline(),
      userId,
      key,
      requestId,
    ]);
    const [outcome, nowMs, rid, reservation, settled] = value as string[];
    this.clock.observe(Number(nowMs));
    if (outcome === "admitted" || outcome === "duplicate")
      return {
        outcome,
        requestId: rid,
        reservation: reservation ? parseReservation(reservation) : null,
        settled: settled === "1",
        replicated,
      };
    return { outcome } as Admission;
  }

  /**
   * What a request already is, without running admission (read-only, one script): 'known' when its
   * reservation, order or Idempotency-Key is this user's; 'key_reused' for another user's key.
   */
  async prior(saleId: number, userId: number, key: string, requestId: string): Promise<"known" | "key_reused" | "new"> {
    return (await this.run(PRIOR, saleId, [userId, key, requestId])) as "known" | "key_reused" | "new";
  }

  /**
   * Whether the sale's master has a replica streaming from it (ROLE lists only online ones). No
   * replica: no failover can lose a write (none could be promoted), so a confirmed publish is as
   * good as WAIT. Null when the node is no longer a master (a failover under way): unknown.
   */
  async hasOnlineReplica(saleId: number): Promise<boolean | null> {
    // A keyless ROLE rides to the sale's master with a keyed command in the same pipeline.
    const results = await this.redis.pipeline().exists(saleKeys(saleId).meta).call("ROLE").exec();
    const [err, role] = results![1] as [Error | null, [string, number, unknown[]]];
    if (err) throw err;
    if (role[0] !== "master") return null;
    return role[2].length > 0;
  }

  /** Whether Redis knows the sale (its rules are loaded; a settled sale's keys expire). */
  async known(saleId: number): Promise<boolean> {
    return (await this.redis.exists(saleKeys(saleId).meta)) === 1;
  }

  /** A request's reservation, confirmation and failure in one round trip. */
  async request(saleId: number, requestId: string): Promise<RequestState> {
    const [res, orderId, reason] = (await this.run(STATUS, saleId, [requestId])) as Array<string | null>;
    return {
      reservation: res ? parseReservation(res) : null,
      orderId: orderId ? Number(orderId) : null,
      failReason: reason ?? null,
    };
  }

  /** Units Redis may still admit, or null when Redis does not know the sale. */
  async remaining(saleId: number): Promise<number | null> {
    const raw = await this.redis.get(saleKeys(saleId).stock);
    return raw === null ? null : Number(raw);
  }

  /** Record the worker's outcome so the status endpoint answers from Redis (while Redis holds the sale). */
  async recordOutcome(saleId: number, requestId: string, outcome: { orderId: number } | { reason: string }) {
    const k = saleKeys(saleId);
    const [hash, value] = "orderId" in outcome ? [k.confirmed, String(outcome.orderId)] : [k.failed, outcome.reason];
    await evalScript(this.redis, RECORD, [k.meta, hash], [requestId, value]);
  }

  /** Let every key of a settled sale expire in `ttlSeconds` (not pushed back by a second call). */
  async expire(saleId: number, ttlSeconds: number): Promise<void> {
    // The lock too: it already expires on its own, and NX leaves its TTL alone.
    await evalScript(this.redis, EXPIRE_SALE, Object.values(saleKeys(saleId)), [ttlSeconds]);
  }

  /** Every reservation of a sale (HSCAN, so a large sale does not block Redis). */
  async reservations(saleId: number): Promise<Map<string, string>> {
    return this.scanHash(saleKeys(saleId).reservations);
  }

  /** Every terminal failure and every re-publish time of a sale. */
  async failedAndRepublished(
    saleId: number,
  ): Promise<{ failed: Map<string, string>; republished: Map<string, string> }> {
    const k = saleKeys(saleId);
    const [failed, republished] = await Promise.all([this.scanHash(k.failed), this.scanHash(k.republished)]);
    return { failed, republished };
  }

  /** Note that a request was re-published at `nowMs`. */
  async markRepublished(saleId: number, requestIds: string[], nowMs: number): Promise<void> {
    if (requestIds.length === 0) return;
    await this.redis.hset(saleKeys(saleId).republished, ...requestIds.flatMap((id) => [id, String(nowMs)]));
  }

  /** Restore orders Redis lost and set the counter to stock − (reservations − failed). */
  async repair(sale: SaleRow, lost: Array<{ requestId: string; userId: number; seq: number; createdMs: number }>) {
    const args = [...rules(sale), ...lost.flatMap((o) => [o.requestId, o.userId, o.seq, o.createdMs])];
    const [restored, reservations, failed, before, after] = (await this.run(REPAIR, sale.id, args)) as Array<
      number | string | null
    >;
    return {
      restored: Number(restored),
      reservations: Number(reservations),
      failed: Number(failed),
      remainingBefore: before === null ? null : Number(before),
      remainingAfter: Number(after),
    } satisfies RepairResult;
  }

  /** Take a sale's reconciliation lock for `ttlMs`; returns a release function, or null when held elsewhere. */
  async lock(saleId: number, token: string, ttlMs: number): Promise<(() => Promise<void>) | null> {
    const key = saleKeys(saleId).lock;
    const got = await this.redis.set(key, token, "PX", ttlMs, "NX");
    if (got !== "OK") return null;
    const release = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
    return async () => void (await this.redis.eval(release, 1, key, token));
  }

  private async scanHash(key: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let cursor = "0";
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, "COUNT", 1000);
      for (let i = 0; i < flat.length; i += 2) out.set(flat[i], flat[i + 1]);
      cursor = next;
    } while (cursor !== "0");
    return out;
  }
}
