import { randomUUID } from "node:crypto";
import type { RowDataPacket } from "mysql2";
import { saleKeys } from "../../services/src/modules/flash-sales/keys";
import { packetKeys } from "../../services/src/modules/red-packets/keys";
import type { InvariantCheck } from "../bench/results";
import { apiCall, createPacket, createSale, insertUsers, type LoadUser } from "../load/fixtures";
import { grabbedShare, packetInvariants, saleInvariants, waitGrabs, type AcceptedPurchase } from "../load/invariants";
import { oneOrderPerKey, type KeyedPurchase } from "../load/key-invariants";
import { entryUrl, eventually, onPrimary, type LoadTarget } from "../load/target";
import type { Fault } from "./faults";
import { bounded } from "../load/bounded";

/** An answer a client got, or null when every attempt failed at the socket or with a 5xx. */
type Answer = { status: number; body: string } | null;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A well-behaved client: a 5xx or a dropped connection means "outcome unknown", so it retries the
 * same request (a purchase keeps its Idempotency-Key) every 250 ms, for at most 45 s in all.
 */
async function untilAnswered(t: LoadTarget, path: string, headers: Record<string, string>): Promise<Answer> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${entryUrl(t)}/api/v1${path}`, {
      method: "POST",
      headers,
      signal: AbortSignal.timeout(Math.max(1, Math.min(15_000, deadline - Date.now()))),
    }).catch(() => null);
    if (res && res.status < 500) return { status: res.status, body: await res.text() };
    await res?.body?.cancel();
    await sleep(250);
  }
  return null;
}

/** Storm sizes; the defaults keep one scenario within seconds on two cores. */
export interface StormSize {
  units: number;
  clients: number;
  concurrency: number;
  /**
   * The fault is injected once this share of the clients has its answer: a point in the storm, not a
   * time — a fixed delay missed a grab storm that had got faster than it.
   */
  faultAtShare: number;
}

/** A storm under one fault: the faulted run, then recovery; and whether the fault landed while the storm ran. */
async function underFault<T>(
  t: LoadTarget,
  fault: Fault,
  key: string,
  size: StormSize,
  storm: (answered: () => void) => Promise<T>,
) {
  let injectedAt = Infinity;
  let due!: () => void;
  const injected = new Promise<void>((resolve) => (due = resolve)).then(async () => {
    await fault.inject(t, key);
    injectedAt = Date.now();
  });
  const threshold = Math.max(1, Math.floor(size.clients * size.faultAtShare));
  let answered = 0;
  const answers = await storm(() => {
    if (++answered === threshold) due();
  });
  const stormEnded = Date.now();
  due(); // a storm that ended short of the threshold still gets its fault, and fails the check below
  await injected;
  await fault.recover(t);
  const during: InvariantCheck = {
    name: "fault during the storm",
    ok: injectedAt <= stormEnded,
    detail: `injected ${injectedAt <= stormEnded ? `${stormEnded - injectedAt} ms before` : "after"} the storm's last answer`,
  };
  return { answers, during };
}

/** The requestId a purchase answer carries, when it is a 202. */
const acceptedId = (a: Answer) => (a?.status === 202 ? (JSON.parse(a.body) as { requestId: string }).requestId : null);

/**
 * Purchases by `buyers`, each until answered; the 202s with their buyers, and every key with the
 * requestIds its 202s carried. With `dropFirst`, each client's first answer is lost on the way back
 * (the storm keeps it only for the checks) and the client retries with the same key until answered.
 */
async function purchases(
  t: LoadTarget,
  saleId: number,
  buyers: LoadUser[],
  concurrency: number,
  answered: () => void = () => undefined,
  dropFirst = false,
) {
  const clients = buyers.map((u) => {
    const purchase: KeyedPurchase = { key: randomUUID(), userId: u.id, requestIds: [] };
    return { u, purchase };
  });
  const keyed = clients.map((c) => c.purchase);
  const answers = await bounded(
    clients.map(({ u, purchase }) => async () => {
      const headers = { authorization: `Bearer ${u.token}`, "idempotency-key": purchase.key };
      const path = `/flash-sales/${saleId}/purchases`;
      if (dropFirst) {
        const res = await fetch(`${entryUrl(t)}/api/v1${path}`, { method: "POST", headers }).catch(() => null);
        const droppedId = acceptedId(res ? { status: res.status, body: await res.text() } : null);
        if (droppedId) purchase.requestIds.push(droppedId);
        answered();
      }
      const answer = await untilAnswered(t, path, headers);
      const answerId = acceptedId(answer);
      if (answerId) purchase.requestIds.push(answerId);
      if (!dropFirst) answered();
      return answer;
    }),
    concurrency,
  );
  const accepted: AcceptedPurchase[] = buyers.flatMap((u, i) => {
    const a = answers[i];
    return a?.status === 202
      ? [{ requestId: (JSON.parse(a.body) as { requestId: string }).requestId, userId: u.id, token: u.token }]
      : [];
  });
  const odd = answers.filter((a) => a === null || ![202, 409].includes(a.status)).length;
  return { accepted, odd, soldOut: answers.filter((a) => a?.body.includes('"sold_out"')).length, keyed };
}

/** Until no accepted purchase is still queued: each is confirmed or failed, as its client would poll it. */
async function settled(t: LoadTarget, saleId: number, accepted: AcceptedPurchase[]) {
  const open = new Set(accepted);
  await eventually(
    async () => {
      await bounded(
        [...open].map((a) => async () => {
          const state = await apiCall<{ status: string }>(t, "GET", `/flash-sales/${saleId}/purchases/${a.requestId}`, {
            token: a.token,
            expect: 200,
          }).catch(() => ({ status: "queued" }));
          if (state.status !== "queued") open.delete(a);
        }),
        20,
      );
      return open.size === 0 ? true : undefined;
    },
    90_000,
    500,
  ).catch(() => undefined); // "every 202 confirmed" reports what stayed unknown
}

/**
 * A flash-sale storm under `fault`: twice as many buyers as units, each retrying until answered;
 * after recovery, more buyers until the sale answers sold_out, so "exactly `units` orders" is a
 * real check (a unit lost in the failover would leave it short). Then every sale invariant, and one
 * order per key. `dropFirstAnswers`: every storm client loses its first answer and retries its key.
 */
export async function flashSaleUnderFault(
  t: LoadTarget,
  fault: Fault,
  size: StormSize,
  opts: { dropFirstAnswers?: boolean } = {},
): Promise<InvariantCheck[]> {
  const users = await insertUsers(t, size.clients + size.units, "chaos");
  const [buyers, sweepers] = [users.slice(0, size.clients), users.slice(size.clients)];
  const saleId = await createSale(t, { stock: size.units, perUserLimit: 1, name: `chaos ${fault.id}` });
  const { answers: storm, during } = await underFault(t, fault, saleKeys(saleId).stock, size, (answered) =>
    purchases(t, saleId, buyers, size.concurrency, answered, opts.dropFirstAnswers),
  );
  await settled(t, saleId, storm.accepted);
  // Sweep: a unit the fault stranded (reserved in Redis, refused in MySQL) comes back through reconciliation.
  const accepted = [...storm.accepted];
  const keyed = [...storm.keyed];
  let odd = storm.odd;
  for (let from = 0; from < sweepers.length; from += 20) {
    const wave = await purchases(t, saleId, sweepers.slice(from, from + 20), 20);
    accepted.push(...wave.accepted);
    keyed.push(...wave.keyed);
    odd += wave.odd;
    if (wave.soldOut === 20) break;
    await sleep(wave.accepted.length ? 0 : 1000); // give the reconciler time to return stranded units
  }
  await settled(t, saleId, accepted);
  const orders = await eventually(async () => {
    const n = await onPrimary(t, async (conn) => {
      const [[row]] = await conn.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM orders WHERE flash_sale_id = ?", [
        saleId,
      ]);
      if (!row) throw new Error("SELECT COUNT(*) returned no row");
      return Number(row.n);
    });
    return n >= size.units ? n : undefined;
  }, 60_000).catch(() => -1);
  const checks = await eventually(async () => {
    const c = await saleInvariants(t, saleId, accepted, { unanswered: odd });
    return c.every((x) => x.ok) ? c : undefined;
  }, 30_000).catch(() => saleInvariants(t, saleId, accepted, { unanswered: odd }));
  return [
    during,
    {
      name: "exactly stock sold",
      ok: orders === size.units,
      detail: `${orders < 0 ? "fewer than" : orders} orders of ${size.units} units`,
    },
    { name: "every client answered", ok: odd === 0, detail: `${odd} requests without a 202/409 after 45 s of retries` },
    ...checks,
    await oneOrderPerKey(t, saleId, keyed),
  ];
}

/** Balances of fresh users: each holds exactly the share it was told. */
async function balancesCheck(t: LoadTarget, told: Map<number, number>): Promise<InvariantCheck> {
  const ids = [...told.keys()];
  const rows = ids.length
    ? await onPrimary(t, async (conn) => {
        const [r] = await conn.query<RowDataPacket[]>("SELECT id, balance_cents FROM users WHERE id IN (?)", [ids]);
        return r;
      })
    : [];
  const wrong = rows.filter((r) => Number(r.balance_cents) !== told.get(Number(r.id))).length;
  return {
    name: "balances credited",
    ok: wrong === 0,
    detail: `${ids.length - wrong} of ${ids.length} balances hold the share told`,
  };
}

/** A red-packet grab storm under `fault`: more grabbers than parts, each retrying until answered. */
export async function redPacketUnderFault(t: LoadTarget, fault: Fault, size: StormSize): Promise<InvariantCheck[]> {
  const [creator, ...grabbers] = await insertUsers(t, size.clients + 1, "chaos");
  if (!creator) throw new Error("the red-packet storm needs a user to create the packet");
  const { id: packetId, ref } = await createPacket(t, creator, size.units);
  const { answers, during } = await underFault(t, fault, packetKeys(packetId).meta, size, (answered) =>
    bounded(
      grabbers.map((u) => async () => {
        const answer = await untilAnswered(t, `/red-packets/${ref}/grabs`, { authorization: `Bearer ${u.token}` });
        answered();
        return answer;
      }),
      size.concurrency,
    ),
  );
  const told = new Map<number, number>();
  grabbers.forEach((u, i) => {
    const a = answers[i];
    const share = a ? grabbedShare(a.status, a.body) : null;
    if (share !== null) told.set(u.id, share);
  });
  const odd = answers.filter((a) => a === null || ![200, 409, 410].includes(a.status)).length;
  await waitGrabs(t, [packetId]);
  return [
    during,
    {
      name: "every client answered",
      ok: odd === 0,
      detail: `${odd} requests without a 200/409/410 after 45 s of retries`,
    },
    ...(await packetInvariants(t, [packetId], [told], { allParts: true, unanswered: odd })),
    await balancesCheck(t, told),
  ];
}
