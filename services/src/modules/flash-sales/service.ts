import { Counter } from "prom-client";
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError } from "../../platform/errors";
import type { NamedCache } from "../../platform/cache";
import type { Platform } from "../../platform/platform";
import { ORDERS_QUEUE } from "./reconcile";
import { findSale, insertSale, saleOrderByRequest, type SaleRow } from "./repository";
import { afterAdmission, soldOutAnswer, whenRedisLacksSale, type Admission, type Known } from "./admission";
import { planHandOff } from "./hand-off";
import { purchaseRequestId } from "./request-id";
import { SaleStore } from "./sale-store";
import type { CreateFlashSaleReq, FlashSale, OrderMessage, PurchaseStatus } from "./schema";
import { SoldOutFlags } from "./sold-out-flags";
import { saleStatus, statusFromRedis, statusWithOrder, type StatusAnswer } from "./status";

type CachedSale = Omit<SaleRow, "startsAt" | "endsAt"> & { startsAt: string; endsAt: string };

/** Purchases Redis admitted or knew, by what their hand-off did (hand-off.ts): `unknown` answered 503. */
export const purchaseHandOffs = new Counter({
  name: "floodgate_flash_sale_hand_offs_total",
  help: "Admitted or known purchases by hand-off step; unknown and unconfirmed ones answered 503",
  labelNames: ["step"] as const,
});

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
    const sale = await findSale(this.p.db, id);
    if (!sale) throw new Error(`flash sale ${id} not found on the primary right after its insert`);
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
    const status = saleStatus(sale, remaining, this.store.clock.now()); // the clock that admits: Redis's
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

  /**
   * Admit one purchase and hand it to the orders queue; the answer is the request id to poll. The
   * request id is derived from (sale, user, key), so every retry of a key names the same request.
   */
  async purchase(saleId: number, userId: number, key: string): Promise<{ requestId: string; status: "queued" }> {
    const requestId = purchaseRequestId(saleId, userId, key);
    const admission = await this.decide(saleId, userId, key, requestId);
    switch (admission.outcome) {
      case "admitted":
      case "duplicate":
        await this.handOff(saleId, userId, admission);
        return { requestId: admission.requestId, status: "queued" };
      case "stale":
        throw UnavailableError(); // Redis ran it too late to matter and changed nothing: retry
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
      case "missing": // still, after loading the sale from MySQL
        throw NotFoundError("no such flash sale");
    }
  }

  private async decide(saleId: number, userId: number, key: string, requestId: string): Promise<Admission> {
    if (this.soldOut.has(saleId)) {
      // A sold-out sale skips admission, not the request: a retry after a 503 may hold a
      // reservation its lost answer never told (a failover test caught 7 such "sold out" answers
      // for orders that went on to be confirmed).
      const answer = soldOutAnswer(await this.prior(saleId, userId, key, requestId));
      if (answer) return answer;
    }
    const tried = { retried: false, loaded: false };
    let admission = await this.admit(saleId, userId, key, requestId);
    for (;;) {
      switch (afterAdmission(admission.outcome, tried)) {
        case "admit-again":
          tried.retried = true;
          admission = await this.admit(saleId, userId, key, requestId);
          break;
        case "load-sale": {
          tried.loaded = true;
          const settled = await this.loadSale(saleId, requestId);
          if (settled) return settled;
          admission = await this.admit(saleId, userId, key, requestId);
          break;
        }
        case "check-own-order":
          return (await this.ordered(saleId, requestId).catch(() => null)) ?? admission;
        case "answer":
          return admission;
      }
    }
  }

  /** Redis does not know the sale: load it from MySQL, or answer from MySQL alone for an ended one. */
  private async loadSale(saleId: number, requestId: string): Promise<Admission | null> {
    const sale = await findSale(this.p.db, saleId); // not the cached row: its remaining may be old
    const next = whenRedisLacksSale(sale, this.store.clock.now());
    switch (next.kind) {
      case "not_found":
        throw NotFoundError("no such flash sale");
      case "mysql-only":
        return (await this.ordered(saleId, requestId)) ?? { outcome: "ended" };
      case "load":
        await this.store.load(next.sale).catch(() => {
          throw UnavailableError();
        });
        return null;
    }
  }

  /** The request as a settled duplicate when MySQL holds its order (primary). */
  private async ordered(saleId: number, requestId: string): Promise<Known | null> {
    const order = await saleOrderByRequest(this.p.db, saleId, requestId);
    return order && { outcome: "duplicate", requestId, reservation: null, settled: true, replicated: true };
  }

  private async prior(saleId: number, userId: number, key: string, requestId: string) {
    try {
      return await this.store.prior(saleId, userId, key, requestId);
    } catch (err) {
      this.p.log.warn({ err: (err as Error).message, saleId }, "idempotency lookup unavailable");
      throw UnavailableError();
    }
  }

  private async admit(saleId: number, userId: number, key: string, requestId: string) {
    try {
      return await this.store.admit(saleId, Date.now(), userId, key, requestId);
    } catch (err) {
      // Redis is where admission is decided: without it nothing can be promised, so say so (503).
      this.p.log.warn({ err: (err as Error).message, saleId }, "admission unavailable");
      throw UnavailableError();
    }
  }

  /**
   * A 202 only for a request a Redis failover cannot take back (hand-off.ts): its reservation on a
   * replica, or — on a master without one — its publish confirmed. Otherwise 503: the outcome is
   * unknown, and the client's retry with the same key finds the same request. A failed publish of a
   * replicated reservation is not the client's problem: the reconciler re-publishes it.
   */
  private async handOff(saleId: number, userId: number, a: Known): Promise<void> {
    const admitted = { ...a, fresh: a.outcome === "admitted" };
    const first = planHandOff(admitted);
    const plan =
      first.step === "ask-replicas"
        ? planHandOff(admitted, await this.store.hasOnlineReplica(saleId).catch(() => null))
        : first;
    purchaseHandOffs.inc({ step: plan.step });
    if (plan.step === "accept") return;
    if (plan.step === "unknown") {
      this.p.log.warn({ saleId, requestId: a.requestId }, "admission not replicated; answering 503");
      throw UnavailableError();
    }
    const { step, reservation: r } = plan;
    const message: OrderMessage = { saleId, requestId: a.requestId, userId, seq: r.seq, admittedAtMs: r.admittedAtMs };
    try {
      await this.p.mq.publish(ORDERS_QUEUE, message, message.requestId);
    } catch (err) {
      this.p.log.warn({ err: (err as Error).message, requestId: a.requestId, step }, "hand-off unconfirmed");
      if (step === "publish-or-unknown") {
        purchaseHandOffs.inc({ step: "unconfirmed" });
        throw UnavailableError();
      }
    }
  }

  /** A request's state, for its purchaser only (anyone else: 404). */
  async status(saleId: number, requestId: string, userId: number): Promise<PurchaseStatus> {
    const state = await this.store.request(saleId, requestId).catch(() => null);
    let answer: StatusAnswer = statusFromRedis(state, userId);
    if (answer.kind === "ask-mysql")
      answer = statusWithOrder(state, await saleOrderByRequest(this.p.db, saleId, requestId), userId);
    switch (answer.kind) {
      case "status":
        return answer.status;
      case "unknown":
        throw UnavailableError(); // Redis down and no order yet: the answer is unknown
      default:
        throw NotFoundError("no such purchase");
    }
  }
}
