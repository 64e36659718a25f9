import type { Cluster } from "ioredis";
import { ACTIVE_PACKETS_KEY, packetKeys } from "./keys";
import { CLAIM, CLOSE, GRAB, LOAD, REAP, RETIRE, SETTLE } from "./scripts";

/** What the grab script decided. */
export type GrabOutcome =
  { outcome: "ok" | "already"; amountCents: number } | { outcome: "empty" | "expired" | "missing" };

/** A packet's state in Redis: the only code that runs the red-packet Lua scripts. */
export class PacketStore {
  constructor(private readonly redis: Cluster) {}

  private run(script: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    return this.redis.eval(script, keys.length, ...keys, ...args.map(String));
  }

  /** Make a packet known to workers, then grabbable: its parts and expiry (idempotent). */
  async load(packetId: number, expiresAtMs: number, parts: number[]): Promise<void> {
    // The active set first: a grab admitted the instant the packet loads must be findable by a worker.
    await this.redis.zadd(ACTIVE_PACKETS_KEY, expiresAtMs, String(packetId));
    const k = packetKeys(packetId);
    await this.run(LOAD, [k.meta, k.parts], [expiresAtMs, ...parts]);
  }

  /** Decide one grab atomically; `nowMs` is the API's clock. */
  async grab(packetId: number, userId: number, nowMs: number): Promise<GrabOutcome> {
    const k = packetKeys(packetId);
    const [outcome, cents] = (await this.run(GRAB, [k.meta, k.parts, k.grabbed, k.queue], [nowMs, userId])) as [
      GrabOutcome["outcome"],
      string?,
    ];
    if (outcome === "ok" || outcome === "already") return { outcome, amountCents: Number(cents) };
    return { outcome };
  }

  /** Claim the next admitted grab of a packet into its processing list, or null when none waits. */
  async claim(packetId: number, nowMs: number): Promise<string | null> {
    const k = packetKeys(packetId);
    return (await this.run(CLAIM, [k.queue, k.processing, k.claims], [nowMs])) as string | null;
  }

  /** Drop a claimed grab after its commit (or park it in the dead list when MySQL refused it). */
  async settle(packetId: number, item: string, dead = false): Promise<void> {
    const k = packetKeys(packetId);
    await this.run(SETTLE, [k.processing, k.claims, k.dead], [item, dead ? 1 : 0]);
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

  /** Stop admitting grabs; false when Redis does not know the packet. */
  async close(packetId: number, nowMs: number): Promise<boolean> {
    return Number(await this.run(CLOSE, [packetKeys(packetId).meta], [nowMs])) === 1;
  }

  /** Every admitted grab of a packet: userId → cents (HSCAN, so a big packet does not block Redis). */
  async grabbed(packetId: number): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    let cursor = "0";
    do {
      const [next, flat] = await this.redis.hscan(packetKeys(packetId).grabbed, cursor, "COUNT", 1000);
      for (let i = 0; i < flat.length; i += 2) out.set(Number(flat[i]), Number(flat[i + 1]));
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
