import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type { RowDataPacket } from "mysql2";
import { DEFAULT_POOL_BOUNDS } from "../../services/src/platform/db-pool";
import { readState } from "../../infra/targets/local/state";
import { apiBase, buildUser, call, replicaBase, uniqueName, type Answer } from "../support/api";
import { buildProduct } from "../support/db";
import { insertUsers } from "../support/users";
import { eventually, mysqlAs } from "../stack/clients";
import { testAddresses, testLayout } from "../stack/test-stack";
import { at, first } from "../support/checked";

const pidOf = (name: string) => readState(testLayout().stateFile)!.processes.find((p) => p.name === name)!.pid;
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

// The longest a request may wait on a frozen primary: a queued request gives up after the acquire
// timeout, a statement after the statement timeout (2 s + 4 s by default), plus a margin for a
// loaded 2-core machine. Still below nginx's proxy_read_timeout (10 s), so nginx never answers 504.
const BOUND_MS = DEFAULT_POOL_BOUNDS.acquireTimeoutMs + DEFAULT_POOL_BOUNDS.statementTimeoutMs + 3000;

async function timed<T>(request: () => Promise<Answer<T>>): Promise<Answer<T> & { ms: number }> {
  const started = Date.now();
  const answer = await request();
  return { ...answer, ms: Date.now() - started };
}

const unavailable = (a: Answer & { ms: number }) => ({
  status: a.status,
  error: (a.body as { error?: string }).error,
  retryAfter: Number(a.headers.get("retry-after")) > 0,
  bounded: a.ms < BOUND_MS,
});
const UNAVAILABLE = { status: 503, error: "unavailable", retryAfter: true, bounded: true };

async function ordersOf(users: Array<{ id: number }>): Promise<number> {
  const conn = await mysqlAs("app", testAddresses().mysqlPrimary);
  try {
    const [rows] = await conn.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM orders WHERE user_id IN (?)", [
      users.map((u) => u.id),
    ]);
    return Number(first(rows, "the order count").n);
  } finally {
    await conn.end();
  }
}

describe("with the MariaDB primary frozen (SIGSTOP)", () => {
  it(`answers writes 503 with Retry-After within ${BOUND_MS} ms, stays flat in memory, and runs nothing late or twice`, async () => {
    const buyer = await buildUser();
    const crowd = await insertUsers(20, "frozen");
    const product = await buildProduct();
    const api = pidOf("api-1");
    const primary = pidOf("mysql-primary");
    const key = randomUUID();
    const order = (user: { token: string }, headers: Record<string, string> = {}, base = replicaBase(0)) =>
      timed(() => call("POST", "/orders", { token: user.token, body: { productId: product.id }, headers, base }));

    process.kill(primary, "SIGSTOP");
    try {
      // One keyed order and one sign-up, on api-1 and through nginx.
      expect(unavailable(await order(buyer, { "idempotency-key": key }))).toEqual(UNAVAILABLE);
      expect(unavailable(await order(buyer, { "idempotency-key": key }, apiBase()))).toEqual(UNAVAILABLE);
      const signUp = await timed(() =>
        call("POST", "/users", {
          body: { username: uniqueName(), password: "correct horse battery" },
          base: replicaBase(0),
        }),
      );
      expect(unavailable(signUp)).toEqual(UNAVAILABLE);
      // Readiness and liveness stay up: reads and Redis-backed routes still work.
      expect((await call("GET", "/health", { base: replicaBase(0) })).status).toBe(200);
      expect((await call("GET", "/health/live", { base: replicaBase(0) })).status).toBe(200);
      expect((await call("GET", "/orders", { token: buyer.token, base: replicaBase(0) })).status).toBe(200);

      // Bursts of 300 purchases on api-1: every one answered 503 in bounded time (nothing piles up:
      // the pool queue is bounded and a request that gave up holds nothing). The RSS rises while V8
      // grows its heap to a plateau (about +170 MB over 12 bursts, measured; heap used falls back
      // at each major GC), so the bound is generous: it catches a process that keeps what it got.
      const burst = async () => {
        const answers = await Promise.all(
          Array.from({ length: 300 }, (_, i) => order(at(crowd, i % crowd.length, "a user of the crowd"))),
        );
        return answers.map(unavailable).filter((a) => JSON.stringify(a) !== JSON.stringify(UNAVAILABLE));
      };
      expect(await burst()).toEqual([]); // warms up whatever the process allocates once
      const before = rssMb(api);
      for (let round = 0; round < 4; round++) expect({ round, wrong: await burst() }).toEqual({ round, wrong: [] });
      const after = rssMb(api);
      const memory = { beforeMb: Math.round(before), afterMb: Math.round(after) };
      expect({ ...memory, bounded: after - before < 256 }).toEqual({ ...memory, bounded: true });
    } finally {
      process.kill(primary, "SIGCONT");
    }

    // After SIGCONT: the keyed order is retried and exists exactly once; no purchase that was
    // answered 503 ran late.
    const retried = await eventually(
      async () => {
        const res = await order(buyer, { "idempotency-key": key });
        return res.status === 201 || res.status === 200 ? res : undefined;
      },
      30_000,
      250,
    );
    expect(retried.body).toMatchObject({ requestId: key, productId: product.id });
    expect((await order(buyer, { "idempotency-key": key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000)); // anything queued during the freeze has run by now
    expect(await ordersOf([buyer])).toBe(1);
    expect(await ordersOf(crowd)).toBe(0);
  });
});
