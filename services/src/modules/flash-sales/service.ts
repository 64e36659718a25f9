import { randomUUID } from "node:crypto";
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError } from "../../platform/errors";
import type { NamedCache } from "../../platform/cache";
import type { Platform } from "../../platform/platform";
import { ORDERS_QUEUE } from "./reconcile";
import { findSale, insertSale, saleOrderByRequest, type SaleRow } from "./repository";
import { SaleStore, type Admission } from "./sale-store";
import type { CreateFlashSaleReq, FlashSale, OrderMessage, PurchaseStatus } from "./schema";
import { SoldOutFlags } from "./sold-out-flags";

type CachedSale = Omit<SaleRow, "startsAt" | "endsAt"> & { startsAt: string; endsAt: string };

/** The flash-sale story: admit in Redis, hand off durably to the orders queue, report the outcome. */
export class FlashSaleService {
  readonly store: SaleStore;
  private readonly soldOut = new SoldOutFlags(1000);
  private readonly sales: NamedCache<CachedSale>;

  constructor(private readonly p: Platform) {
    this.store = new SaleStore(p.redis);
    this.sales = p.caches.cache<CachedSale>("flash-sale");
  }

  /** Create a sale in MySQL, then load it into Redis (a Redis outage here is repaired by the reconciler). */
  async create(req: CreateFlashSaleReq): Promise<{ id: number }> {
    const id = await insertSale(this.p.db, { ...req, startsAt: new Date(req.startsAt), endsAt: new Date(req.endsAt) });
    await this.sales.invalidate(id); // the id may have been looked up (and cached as missing) before
    const sale = (await findSale(this.p.db, id))!;
    await this.store.load(sale).catch((err: Error) => this.p.log.warn({ err: err.message, id }, "sale not loaded"));
    return { id };
  }

  private async sale(id: number): Promise<SaleRow> {
    const cached = await this.sales.get(id, async () => {
      const row = await findSale(this.p.db, id);
      return row && { ...row, startsAt: row.startsAt.toISOString(), endsAt: row.endsAt.toISOString() };
    });
    if (!cached) throw NotFoundError("no such flash sale");
    return { ...cached, startsAt: new Date(cached.startsAt), endsAt: new Date(cached.endsAt) };
  }

  /** A sale with its status; remaining from Redis when it answers, else from MySQL. */
  async get(id: number): Promise<FlashSale> {
    const sale = await this.sale(id);
    const fromRedis = await this.store.remaining(id).catch(() => null);
    const remaining = fromRedis ?? (await findSale(this.p.db, id))?.remaining ?? 0;
    const now = Date.now();
    const status =
      now < sale.startsAt.getTime()
        ? "scheduled"
        : now >= sale.endsAt.getTime()
          ? "ended"
          : remaining <= 0
            ? "sold_out"
            : "active";
    return {
      id,
      name: sale.name,
      stock: sale.stock,
      remaining: Math.max(0, remaining),
      perUserLimit: sale.perUserLimit,
      startsAt: sale.startsAt.toISOString(),
      endsAt: sale.endsAt.toISOString(),
      status,
    };
  }

  /** Admit one purchase and hand it to the orders queue; the answer is the request id to poll. */
  async purchase(saleId: number, userId: number, key: string): Promise<{ requestId: string; status: "queued" }> {
    const nowMs = Date.now();
    let admission = this.soldOut.has(saleId)
      ? ((await this.prior(saleId, userId, key)) ?? ({ outcome: "sold_out" } as const))
      : await this.admit(saleId, nowMs, userId, key);
    if (admission.outcome === "missing") {
      // Redis does not know the sale (never loaded, or lost in a failover): load it from MySQL once.
      const sale = await findSale(this.p.db, saleId); // not the cached row: its remaining may be old
      if (!sale) throw NotFoundError("no such flash sale");
      await this.store.load(sale).catch(() => {
        throw UnavailableError();
      });
      admission = await this.admit(saleId, nowMs, userId, key);
    }
    switch (admission.outcome) {
      case "admitted":
        await this.handOff({
          saleId,
          requestId: admission.requestId,
          userId,
          seq: admission.seq!,
          admittedAtMs: nowMs,
        });
        return { requestId: admission.requestId, status: "queued" };
      case "duplicate":
        return { requestId: admission.requestId, status: "queued" };
      case "key_reused":
        throw ConflictError("idempotency_key_reused", "that Idempotency-Key was used by another user");
      case "not_started":
        throw ForbiddenError("not_started", "the sale has not started");
      case "ended":
        throw ForbiddenError("ended", "the sale has ended");
      case "limit_reached":
        throw ConflictError("limit_reached", "you already bought the most this sale allows");
      case "sold_out":
        this.soldOut.set(saleId);
        throw ConflictError("sold_out", "the sale is sold out");
      default:
        throw NotFoundError("no such flash sale");
    }
  }

  // A sold-out sale skips the admission script, but not the key: a retry after a 503 may hold a
  // reservation that its lost answer never told (a failover test caught 7 such "sold out" answers
  // for orders that went on to be confirmed). One HGET tells it its requestId.
  private async prior(saleId: number, userId: number, key: string): Promise<Admission | null> {
    try {
      return await this.store.prior(saleId, userId, key);
    } catch (err) {
      this.p.log.warn({ err: (err as Error).message, saleId }, "idempotency lookup unavailable");
      throw UnavailableError();
    }
  }

  private async admit(saleId: number, nowMs: number, userId: number, key: string) {
    try {
      return await this.store.admit(saleId, nowMs, userId, key, randomUUID());
    } catch (err) {
      // Redis is where admission is decided: without it nothing can be promised, so say so (503).
      this.p.log.warn({ err: (err as Error).message, saleId }, "admission unavailable");
      throw UnavailableError();
    }
  }

  // The reservation in Redis is the durable record: a failed or unconfirmed publish keeps it, and the
  // reconciler re-publishes reservations without an order. A timeout is "outcome unknown": never release.
  private async handOff(message: OrderMessage): Promise<void> {
    await this.p.mq.publish(ORDERS_QUEUE, message, message.requestId).catch((err: Error) => {
      this.p.log.warn({ err: err.message, requestId: message.requestId }, "hand-off unconfirmed; reconciler retries");
    });
  }

  /** A request's state, for its purchaser only (anyone else: 404). */
  async status(saleId: number, requestId: string, userId: number): Promise<PurchaseStatus> {
    const state = await this.store.request(saleId, requestId).catch(() => null);
    if (state?.reservation && state.reservation.userId !== userId) throw NotFoundError("no such purchase");
    if (state?.orderId) return { status: "confirmed", orderId: state.orderId };
    if (state?.failReason) return { status: "failed", reason: state.failReason };
    // MySQL is the source of truth for confirmed orders (Redis may have lost them, or be down).
    const order = await saleOrderByRequest(this.p.db, saleId, requestId);
    if (order) {
      if (order.userId !== userId) throw NotFoundError("no such purchase");
      return { status: "confirmed", orderId: order.id };
    }
    if (state?.reservation) return { status: "queued" };
    if (!state) throw UnavailableError(); // Redis down and no order yet: the answer is unknown
    throw NotFoundError("no such purchase");
  }
}
