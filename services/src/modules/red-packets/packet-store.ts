import type { Cluster } from "ioredis";
import { evalScript } from "../../platform/lua";
import { hashEntries } from "../../platform/redis";
import { NotReplicatedError, ReplicatedTurnBatcher, runReplicatedBatch } from "../../platform/replicated-batch";
import { ACTIVE_PACKETS_KEY, packetKeys } from "./keys";
import { ADOPT, CLAIM_MANY, CLOSE, GRAB, LOAD, REAP, RETIRE, SETTLE } from "./scripts";

/** What the grab script decided. */
export type GrabOutcome =
  { outcome: "ok" | "already"; amountCents: number } | { outcome: "empty" | "expired" | "unknown" | "missing" };

export { NotReplicatedError, REPLICATION_TIMEOUT_MS } from "../../platform/replicated-batch";

/**
 * A packet's state in Redis: the only code that runs the red-packet Lua scripts.
 *
 * Redis replicates asynchronously, so a master can run a grab and die before its replica has it;
 * the promoted replica then knows nothing of a grab the client was told about. Every write that
 * someone acts on — the grab behind a 200, the claim behind a commit, the close behind a refund —
 * is therefore followed by `WAIT 1` in the same pipeline (one round trip, on the slot's master)
 * and only acted on once a replica holds it (and everything before it: the stream is ordered).
 * WAIT narrows the loss window to a partition's, it does not close it (docs/reliability.md, "Redis Cluster").
 *
 * Grabs are group-committed: the grabs of one packet that arrive in the same turn of the event
 * loop go to its master as one pipeline — each its own script run, then one WAIT for all of them
 * (WAIT covers every write sent before it on the connection). Under a storm that is one round trip
 * and one WAIT per batch instead of per grab; alone, a grab waits for nothing but its own turn.
 */
export class PacketStore {
  /** Grabs of one packet in one turn go as one pipeline (a packet's keys share one slot, so one master). */
  private readonly grabs: ReplicatedTurnBatcher;

  constructor(private readonly redis: Cluster) {
    this.grabs = new ReplicatedTurnBatcher(redis, GRAB);
  }

  private run(script: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    return evalScript(this.redis, script, keys, args);
  }

  /** Run a script, then WAIT on the same master; `replicated` is false when no replica acknowledged in time. */
  private async runReplicated(
    script: string,
    keys: string[],
    args: Array<string | number>,
  ): Promise<{ value: unknown; replicated: boolean }> {
    const [result] = await runReplicatedBatch(this.redis, script, keys, [args]);
    if (!result) throw new Error("the replicated batch answered nothing for its one run");
    if (result.err) throw result.err;
    return result;
  }

  /** Make a packet known to workers, then grabbable: its token, parts and expiry (idempotent). */
  async load(packetId: number, expiresAtMs: number, token: string, parts: number[]): Promise<void> {
    // The active set first: a grab admitted the instant the packet loads must be findable by a worker.
    await this.redis.zadd(ACTIVE_PACKETS_KEY, expiresAtMs, String(packetId));
    const k = packetKeys(packetId);
    await this.run(LOAD, [k.meta, k.parts], [expiresAtMs, token, ...parts]);
  }

  /** Give a packet loaded without a token (before tokens existed) the token MySQL holds; false when Redis lacks it. */
  async adopt(packetId: number, token: string): Promise<boolean> {
    return Number(await this.run(ADOPT, [packetKeys(packetId).meta], [token])) === 1;
  }

  /**
   * Decide one grab atomically; `nowMs` is the API's clock, `token` the one the client named the
   * packet with (a wrong one is "unknown"). A grab (new or earlier) is reported only once a replica
   * holds it; otherwise NotReplicatedError: the outcome is unknown, a retry learns it.
   */
  async grab(packetId: number, token: string, userId: number, nowMs: number): Promise<GrabOutcome> {
    const k = packetKeys(packetId);
    const { value, replicated } = await this.grabs.run([k.meta, k.parts, k.grabbed, k.queue], [nowMs, userId, token]);
    const [outcome, cents] = value as [GrabOutcome["outcome"], string?];
    if (outcome === "ok" || outcome === "already") {
      if (!replicated) throw new NotReplicatedError();
      return { outcome, amountCents: Number(cents) };
    }
    return { outcome };
  }

  /**
   * Claim up to `max` admitted grabs of a packet into its processing list (one script, one WAIT);
   * none when none waits. `replicated` false: a replica does not hold them yet, so they must not
   * be committed to MySQL (a failover could still erase them from Redis and hand their parts to
   * someone else); the items stay in processing and the reaper requeues them.
   */
  async claimMany(packetId: number, nowMs: number, max: number): Promise<{ items: string[]; replicated: boolean }> {
    const k = packetKeys(packetId);
    const { value, replicated } = await this.runReplicated(CLAIM_MANY, [k.queue, k.processing, k.claims], [nowMs, max]);
    return { items: value as string[], replicated };
  }

  /** Drop claimed grabs after their commit (or park the ones MySQL refused in the dead list), in one script. */
  async settle(packetId: number, settled: Array<{ item: string; dead: boolean }>): Promise<void> {
    if (settled.length === 0) return;
    const k = packetKeys(packetId);
    await this.run(
      SETTLE,
      [k.processing, k.claims, k.dead],
      settled.flatMap((s) => [s.item, s.dead ? 1 : 0]),
    );
  }

  /** Requeue grabs claimed more than `timeoutMs` ago; returns how many moved. */
  async reap(packetId: number, nowMs: number, timeoutMs: number): Promise<number> {
    const k = packetKeys(packetId);
    return Number(await this.run(REAP, [k.queue, k.processing, k.claims], [nowMs, timeoutMs]));
  }

  /** Grabs waiting in the queue of a packet. */
  queued(packetId: number): Promise<number> {
    return this.redis.llen(packetKeys(packetId).queue);
  }

  /**
   * Stop admitting grabs; false when Redis does not know the packet. Throws NotReplicatedError until
   * a replica holds the close — and with it every grab admitted before it, which the refund persists.
   */
  async close(packetId: number, nowMs: number): Promise<boolean> {
    const { value, replicated } = await this.runReplicated(CLOSE, [packetKeys(packetId).meta], [nowMs]);
    if (!replicated) throw new NotReplicatedError();
    return Number(value) === 1;
  }

  /** Every admitted grab of a packet: userId → cents (HSCAN, so a big packet does not block Redis). */
  async grabbed(packetId: number): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    let cursor = "0";
    do {
      const key = packetKeys(packetId).grabbed;
      const [next, flat] = await this.redis.hscan(key, cursor, "COUNT", 1000);
      for (const [userId, cents] of hashEntries(flat, key)) out.set(Number(userId), Number(cents));
      cursor = next;
    } while (cursor !== "0");
    return out;
  }

  /** Once nothing is queued or processing, let the keys expire and stop workers looking at it. */
  async retire(packetId: number, ttlSeconds: number): Promise<boolean> {
    const keys = Object.values(packetKeys(packetId));
    if (Number(await this.run(RETIRE, keys, [ttlSeconds])) !== 1) return false;
    await this.redis.zrem(ACTIVE_PACKETS_KEY, String(packetId));
    return true;
  }

  /** The ids of every packet workers should look at. */
  async activeIds(): Promise<number[]> {
    return (await this.redis.zrange(ACTIVE_PACKETS_KEY, 0, -1)).map(Number);
  }

  /** The ids of active packets that expired by `nowMs` (candidates for retiring). */
  async activeIdsExpiredBy(nowMs: number): Promise<number[]> {
    return (await this.redis.zrangebyscore(ACTIVE_PACKETS_KEY, 0, nowMs)).map(Number);
  }
}
