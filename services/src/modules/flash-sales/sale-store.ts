import type { Cluster } from "ioredis";
import { evalScript } from "../../platform/lua";
import type { SaleRow } from "./repository";
import { saleKeys, scriptKeys } from "./keys";
import { ADMIT, LOAD, REPAIR, STATUS } from "./scripts";

/** What the admission script decided. */
export type Admission =
  | { outcome: "admitted" | "duplicate"; requestId: string; seq?: number }
  | { outcome: "missing" | "key_reused" | "not_started" | "ended" | "limit_reached" | "sold_out" };

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
export function parseReservation(raw: string): { userId: number; seq: number; admittedAtMs: number } {
  const [userId, seq, at] = raw.split("|").map(Number);
  return { userId, seq, admittedAtMs: at };
}

/** A sale's state in Redis: the only code that runs the flash-sale Lua scripts. */
export class SaleStore {
  constructor(private readonly redis: Cluster) {}

  private run(script: string, saleId: number, args: Array<string | number>): Promise<unknown> {
    return evalScript(this.redis, script, scriptKeys(saleId), args);
  }

  /** Copy a sale's rules and counter into Redis (the counter only when Redis has none). */
  async load(sale: SaleRow): Promise<void> {
    await this.run(LOAD, sale.id, [...rules(sale), sale.remaining]);
  }

  /** Decide one purchase atomically; `nowMs` is the API's clock. */
  async admit(saleId: number, nowMs: number, userId: number, key: string, newRequestId: string): Promise<Admission> {
    const [outcome, requestId, seq] = (await this.run(ADMIT, saleId, [nowMs, userId, key, newRequestId])) as string[];
    if (outcome === "admitted" || outcome === "duplicate")
      return { outcome, requestId, seq: seq === undefined ? undefined : Number(seq) };
    return { outcome } as Admission;
  }

  /**
   * What an Idempotency-Key already stands for, without running admission: one HGET. Null when
   * the key is new; `duplicate` for this user's earlier request; `key_reused` for another user's.
   */
  async prior(saleId: number, userId: number, key: string): Promise<Admission | null> {
    const raw = await this.redis.hget(saleKeys(saleId).idem, key);
    if (raw === null) return null;
    const bar = raw.indexOf("|");
    if (raw.slice(0, bar) !== String(userId)) return { outcome: "key_reused" };
    return { outcome: "duplicate", requestId: raw.slice(bar + 1) };
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

  /** Record the worker's outcome so the status endpoint answers from Redis. */
  async recordOutcome(saleId: number, requestId: string, outcome: { orderId: number } | { reason: string }) {
    const k = saleKeys(saleId);
    if ("orderId" in outcome) await this.redis.hset(k.confirmed, requestId, String(outcome.orderId));
    else await this.redis.hset(k.failed, requestId, outcome.reason);
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
