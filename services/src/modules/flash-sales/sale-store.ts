import type { Cluster } from "ioredis";
import { evalScript } from "../../platform/lua";
import { hashEntries } from "../../platform/redis";
import { ReplicatedTurnBatcher } from "../../platform/replicated-batch";
import { admissionDeadline, parseAdmission, parseReservation, type Admission, type Prior } from "./admission";
import type { SaleRow } from "./repository";
import { saleKeys, scriptKeys } from "./keys";
import { RedisClock } from "./redis-clock";
import { ADMIT, EXPIRE_SALE, LOAD, PRIOR, RECORD, REPAIR, STATUS } from "./scripts";
import type { RequestState } from "./status";

/** What MySQL decided for a request, as the worker records it in Redis for the status endpoint. */
export type RequestOutcome = { kind: "confirmed"; orderId: number } | { kind: "failed"; reason: string };

/** What REPAIR returned. */
export interface RepairResult {
  restored: number;
  reservations: number;
  failed: number;
  remainingBefore: number | null;
  remainingAfter: number;
}

const rules = (s: SaleRow) => [s.startsAt.getTime(), s.endsAt.getTime(), s.perUserLimit, s.stock].map(String);

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
   * it sends (the script changes nothing once admission.ts's ADMIT_FRESH_MS have passed on Redis's clock: 'stale').
   */
  async admit(saleId: number, sentAtMs: number, userId: number, key: string, requestId: string): Promise<Admission> {
    // Counted from when its batch is sent (ioredis's timeout starts there), not from the call: a
    // batch may wait for the previous one's WAIT.
    const calledAtMs = Date.now();
    const deadline = () => admissionDeadline({ sentAtMs, calledAtMs, nowMs: Date.now(), redisNowMs: this.clock.now() });
    const { value, replicated } = await this.admissions.run(scriptKeys(saleId), () => [
      deadline(),
      userId,
      key,
      requestId,
    ]);
    const { admission, redisNowMs } = parseAdmission(value, replicated);
    this.clock.observe(redisNowMs);
    return admission;
  }

  /**
   * What a request already is, without running admission (read-only, one script): 'known' when its
   * reservation, order or Idempotency-Key is this user's; 'key_reused' for another user's key.
   */
  async prior(saleId: number, userId: number, key: string, requestId: string): Promise<Prior> {
    return (await this.run(PRIOR, saleId, [userId, key, requestId])) as Prior;
  }

  /**
   * Whether the sale's master has a replica streaming from it (ROLE lists only online ones). No
   * replica: no failover can lose a write (none could be promoted), so a confirmed publish is as
   * good as WAIT. Null when the node is no longer a master (a failover under way): unknown.
   */
  async hasOnlineReplica(saleId: number): Promise<boolean | null> {
    // A keyless ROLE rides to the sale's master with a keyed command in the same pipeline.
    const results = await this.redis.pipeline().exists(saleKeys(saleId).meta).call("ROLE").exec();
    // exec() answers null only for a MULTI aborted by WATCH; a plain pipeline always has results.
    if (!results) throw new Error("the ROLE pipeline returned no results");
    const [err, role] = results[1] as [Error | null, [string, number, unknown[]]];
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
  async recordOutcome(saleId: number, requestId: string, outcome: RequestOutcome) {
    const k = saleKeys(saleId);
    const [hash, value] =
      outcome.kind === "confirmed" ? [k.confirmed, String(outcome.orderId)] : [k.failed, outcome.reason];
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
      for (const [field, value] of hashEntries(flat, key)) out.set(field, value);
      cursor = next;
    } while (cursor !== "0");
    return out;
  }
}
