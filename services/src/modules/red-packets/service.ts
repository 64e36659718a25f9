import { HttpError, NotFoundError, UnavailableError } from "../../platform/errors";
import type { Platform } from "../../platform/platform";
import { NotReplicatedError, PacketStore } from "./packet-store";
import { findPacket, insertPacket, listGrabs } from "./repository";
import type { CreateRedPacketReq, RedPacketView } from "./schema";
import { splitAmount } from "./split";

const gone = (id: "empty" | "expired") =>
  new HttpError(410, id, id === "empty" ? "every part has been grabbed" : "the red packet has expired");

/** The red-packet story: a creator splits an amount at once; grabbers race for the parts in Redis. */
export class RedPacketService {
  private readonly store: PacketStore;

  constructor(private readonly p: Platform) {
    this.store = new PacketStore(p.redis);
  }

  /** Split the amount, record the packet in MySQL, then load its parts into Redis. */
  async create(creatorId: number, req: CreateRedPacketReq): Promise<{ id: number }> {
    const parts = splitAmount(req.amountCents, req.count);
    const { id, expiresAtMs } = await this.p.db
      .transaction(null, (tx) => insertPacket(tx, { creatorId, ...req }))
      .catch((err: { code?: string }) => {
        if (err.code === "ER_NO_REFERENCED_ROW_2") throw NotFoundError("the token's user no longer exists");
        throw err;
      });
    try {
      await this.store.load(id, expiresAtMs, parts);
    } catch (err) {
      // Outcome unknown: the row stays; if Redis never got the parts, grabs answer 503 and the
      // expiry refund returns the whole amount (nothing can have been admitted without them).
      this.p.log.warn({ packetId: id, err: (err as Error).message }, "red packet not loaded into Redis");
      throw UnavailableError("the red packet could not be opened for grabs; it will be refunded at expiry");
    }
    return { id };
  }

  /** One grab, decided atomically in Redis; a worker persists it and credits the grabber. */
  async grab(packetId: number, userId: number): Promise<{ amountCents: number }> {
    let decision;
    try {
      decision = await this.store.grab(packetId, userId, Date.now());
    } catch (err) {
      if (err instanceof NotReplicatedError) {
        this.p.log.warn({ packetId }, "red packet grab not replicated in time");
        throw UnavailableError("the grab's outcome is unknown; retry to learn it");
      }
      // Outcome unknown (a timeout may follow an admission): a retry answers 409 with the amount.
      this.p.log.warn({ packetId, err: (err as Error).message }, "red packet grab: redis unavailable");
      throw UnavailableError();
    }
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
      case "missing":
        return this.unknownToRedis(packetId);
    }
  }

  // Redis has no such packet: unknown id, a packet retired after its refund, or one Redis lost.
  private async unknownToRedis(packetId: number): Promise<never> {
    const packet = await findPacket(this.p.db, packetId);
    if (!packet) throw NotFoundError("no such red packet");
    if (packet.refunded || packet.expiresAt.getTime() <= Date.now()) throw gone("expired");
    if (packet.remainingCount === 0) throw gone("empty");
    throw UnavailableError("the red packet is not open for grabs right now");
  }

  /** A packet as MySQL has it: the grabs persisted so far. Any signed-in user may look (packets are shared). */
  async view(packetId: number): Promise<RedPacketView> {
    const [packet, grabs] = await Promise.all([findPacket(this.p.db, packetId), listGrabs(this.p.db, packetId)]);
    if (!packet) throw NotFoundError("no such red packet");
    return {
      amountCents: packet.amountCents,
      count: packet.count,
      remainingCount: packet.remainingCount,
      remainingCents: packet.remainingCents,
      expiresAt: packet.expiresAt.toISOString(),
      refunded: packet.refunded,
      grabs,
    };
  }
}
