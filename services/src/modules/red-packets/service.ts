import { createHash } from "node:crypto";
import { ConflictError, HttpError, NotFoundError, UnavailableError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { applyMovements, InsufficientBalance } from "../ledger/repository";
import { NotReplicatedError, PacketStore } from "./packet-store";
import { formatPacketRef, newPacketToken, type PacketRef } from "./packet-ref";
import { findPacket, insertPacket, listGrabs, packetByKey } from "./repository";
import type { CreateRedPacketReq, RedPacketView } from "./schema";
import { splitAmount } from "./split";

const gone = (id: "empty" | "expired") =>
  new HttpError(410, id, id === "empty" ? "every part has been grabbed" : "the red packet has expired");
const code = (err: unknown) => (err as { code?: string }).code;
const noSuchPacket = () => NotFoundError("no such red packet");

/** What a create request asked for, as a hash: a replayed key must carry the same request. */
const requestHash = (req: CreateRedPacketReq) =>
  createHash("sha256")
    .update(JSON.stringify([req.amountCents, req.count, req.expiresInSeconds]))
    .digest("hex");

/**
 * The red-packet story: a creator pays an amount into a packet (a ledger debit in the transaction
 * that creates it) that is split at once; grabbers race for the parts in Redis; workers credit them.
 */
export class RedPacketService {
  private readonly store: PacketStore;

  constructor(private readonly p: Platform) {
    this.store = new PacketStore(p.redis);
  }

  /**
   * Create a packet once per Idempotency-Key: insert it (the creator's unique key makes a concurrent
   * copy wait, then fail as a duplicate), debit the creator — 409 insufficient_balance when short —
   * then load its parts into Redis. A replay answers the same packet, and loads it if the first
   * attempt could not (Redis was down: that attempt answered 503).
   */
  async create(creatorId: number, req: CreateRedPacketReq, key: string): Promise<{ id: string; created: boolean }> {
    const hash = requestHash(req);
    const token = newPacketToken();
    let made: { id: number; expiresAtMs: number };
    try {
      made = await this.p.db.transaction(`user:${creatorId}`, async (tx) => {
        const packet = await insertPacket(tx, { creatorId, token, idempotencyKey: key, requestHash: hash, ...req });
        const debit = { userId: creatorId, kind: "packet_debit" as const, cents: -req.amountCents };
        await applyMovements(tx, [{ ...debit, operationId: `rp:${packet.id}` }]);
        return packet;
      });
    } catch (err) {
      if (err instanceof InsufficientBalance)
        throw ConflictError("insufficient_balance", "your balance is lower than the packet's amount");
      if (code(err) === "ER_NO_REFERENCED_ROW_2") throw NotFoundError("the token's user no longer exists");
      if (code(err) !== "ER_DUP_ENTRY") throw err;
      return this.replay(creatorId, key, hash);
    }
    await this.open(made.id, made.expiresAtMs, token, splitAmount(req.amountCents, req.count));
    return { id: formatPacketRef({ id: made.id, token }), created: true };
  }

  private async replay(creatorId: number, key: string, hash: string): Promise<{ id: string; created: boolean }> {
    const prior = await packetByKey(this.p.db, creatorId, key);
    if (!prior || prior.requestHash !== hash)
      throw ConflictError("idempotency_key_reused", "that Idempotency-Key was used for another red packet");
    // LOAD is a no-op once loaded; a packet past its expiry is left to the refund.
    if (!prior.refunded && prior.expiresAtMs > Date.now())
      await this.open(prior.id, prior.expiresAtMs, prior.token, splitAmount(prior.amountCents, prior.count));
    return { id: formatPacketRef(prior), created: false };
  }

  private async open(id: number, expiresAtMs: number, token: string, parts: number[]): Promise<void> {
    try {
      await this.store.load(id, expiresAtMs, token, parts);
    } catch (err) {
      // Outcome unknown: the row and the debit stay; a retry with the same key loads it, and if Redis
      // never got the parts nothing can be grabbed and the expiry refund returns the whole amount.
      this.p.log.warn({ packetId: id, err: (err as Error).message }, "red packet not loaded into Redis");
      throw UnavailableError("the red packet could not be opened for grabs; retry with the same Idempotency-Key");
    }
  }

  /** One grab, decided atomically in Redis; a worker persists it and credits the grabber. */
  async grab(ref: PacketRef, userId: number, adopted = false): Promise<{ amountCents: number }> {
    const decision = await this.decide(ref, userId);
    switch (decision.outcome) {
      case "ok":
        return { amountCents: decision.amountCents };
      case "already":
        throw new HttpError(409, "already_grabbed", "you already grabbed this red packet", {
          amountCents: decision.amountCents,
        });
      case "empty":
      case "expired":
        throw gone(decision.outcome);
      case "unknown":
        throw noSuchPacket();
      case "missing":
        return this.unknownToRedis(ref, userId, adopted);
    }
  }

  private async decide(ref: PacketRef, userId: number) {
    try {
      return await this.store.grab(ref.id, ref.token, userId, Date.now());
    } catch (err) {
      if (err instanceof NotReplicatedError) {
        this.p.log.warn({ packetId: ref.id }, "red packet grab not replicated in time");
        throw UnavailableError("the grab's outcome is unknown; retry to learn it");
      }
      // Outcome unknown (a timeout may follow an admission): a retry answers 409 with the amount.
      this.p.log.warn({ packetId: ref.id, err: (err as Error).message }, "red packet grab: redis unavailable");
      throw UnavailableError();
    }
  }

  // Redis has no such packet (unknown id, retired after its refund, or lost) or it has no token yet
  // (loaded before tokens existed): MySQL says which, and a live packet that only lacked its token
  // gets it and is grabbed again.
  private async unknownToRedis(ref: PacketRef, userId: number, adopted: boolean): Promise<{ amountCents: number }> {
    const packet = await findPacket(this.p.db, ref.id);
    if (!packet || packet.token !== ref.token) throw noSuchPacket();
    if (packet.refunded || packet.expiresAt.getTime() <= Date.now()) throw gone("expired");
    if (packet.remainingCount === 0) throw gone("empty");
    if (!adopted && (await this.store.adopt(ref.id, ref.token).catch(() => false))) return this.grab(ref, userId, true);
    throw UnavailableError("the red packet is not open for grabs right now");
  }

  /**
   * A packet as MySQL has it. Anyone holding its id sees the amounts; the grabs (who got what) only
   * its creator and those who grabbed it.
   */
  async view(ref: PacketRef, viewerId: number): Promise<RedPacketView> {
    const [packet, grabs] = await Promise.all([findPacket(this.p.db, ref.id), listGrabs(this.p.db, ref.id)]);
    if (!packet || packet.token !== ref.token) throw noSuchPacket();
    const insider = packet.creatorId === viewerId || grabs.some((g) => g.userId === viewerId);
    return {
      amountCents: packet.amountCents,
      count: packet.count,
      remainingCount: packet.remainingCount,
      remainingCents: packet.remainingCents,
      expiresAt: packet.expiresAt.toISOString(),
      refunded: packet.refunded,
      ...(insider ? { grabs } : {}),
    };
  }
}
