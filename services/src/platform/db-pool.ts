import mysql from "mysql2/promise";
import { dbQueryDuration } from "./metrics";

/**
 * How long anything may wait on one MySQL server. A frozen (SIGSTOPped) or overloaded server then
 * costs a request at most about `acquireTimeoutMs` or `statementTimeoutMs`, and a burst at most
 * `queueLimit` waiting requests per pool, instead of a pile-up that runs late writes after a 504.
 */
export interface PoolBounds {
  /** Open connections per pool. */
  connectionLimit: number;
  /** Requests waiting for a connection per pool; beyond that they fail at once. */
  queueLimit: number;
  /** Longest wait for a pooled connection (mysql2 itself has no acquire timeout). */
  acquireTimeoutMs: number;
  /** Longest wait for one statement's answer, prepare and BEGIN/COMMIT included. */
  statementTimeoutMs: number;
  /** Longest wait for a new connection's handshake. */
  connectTimeoutMs: number;
}

/** The bounds every pool gets unless a caller overrides some (docs/reliability.md, "When a dependency fails", explains the numbers). */
export const DEFAULT_POOL_BOUNDS: PoolBounds = {
  connectionLimit: 20,
  queueLimit: 200,
  acquireTimeoutMs: 2000,
  statementTimeoutMs: 4000,
  connectTimeoutMs: 2000,
};

/** An error of the pool itself, with a stable `code` that isDatabaseUnavailable knows. */
export class PoolError extends Error {
  constructor(
    readonly code: "DB_ACQUIRE_TIMEOUT" | "DB_QUEUE_FULL" | "DB_POOL_CLOSED" | "DB_STATEMENT_TIMEOUT",
    message: string,
  ) {
    super(message);
    this.name = "PoolError";
  }
}

/**
 * True when a statement error leaves its connection's state unknown (a statement may still be queued
 * on it, or the socket is dead): it is destroyed, never handed to the next request.
 */
export const leavesConnectionUnusable = (err: unknown): boolean => {
  const e = err as { fatal?: unknown; code?: unknown } | null;
  return Boolean(
    e && (e.fatal === true || e.code === "DB_STATEMENT_TIMEOUT" || e.code === "PROTOCOL_SEQUENCE_TIMEOUT"),
  );
};

/**
 * One mysql2 pool with the bounds above enforced: a timed acquire, and a client-side timer around
 * every statement. mysql2's own per-query `timeout` is not enough: it starts only when the command
 * reaches the head of the connection's queue, never covers the PREPARE that `execute` sends first,
 * and leaves the connection in the pool with the stuck command still on it.
 */
export class BoundedPool {
  readonly pool: mysql.Pool;

  constructor(
    readonly role: "writer" | "reader",
    options: mysql.PoolOptions,
    readonly bounds: PoolBounds,
  ) {
    this.pool = mysql.createPool({
      ...options,
      connectionLimit: bounds.connectionLimit,
      queueLimit: bounds.queueLimit,
      connectTimeout: bounds.connectTimeoutMs,
    });
  }

  /**
   * Run `fn` on one connection whose every execute/query is timed out; the connection is released or
   * destroyed after. `observe: false` keeps the statements out of the query metrics (health probes).
   */
  async use<T>(fn: (conn: mysql.PoolConnection) => Promise<T>, { observe = true } = {}): Promise<T> {
    const conn = await this.acquire();
    try {
      return await fn(this.bounded(conn, observe));
    } catch (err) {
      if (leavesConnectionUnusable(err)) conn.destroy();
      throw err;
    } finally {
      conn.release(); // a no-op once destroyed
    }
  }

  /** A pooled connection within acquireTimeoutMs; one that arrives after the caller gave up goes straight back. */
  acquire(): Promise<mysql.PoolConnection> {
    return new Promise((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        reject(
          new PoolError("DB_ACQUIRE_TIMEOUT", `no ${this.role} connection within ${this.bounds.acquireTimeoutMs} ms`),
        );
      }, this.bounds.acquireTimeoutMs);
      this.pool.getConnection().then(
        (conn) => {
          if (!waiting) return conn.release();
          waiting = false;
          clearTimeout(timer);
          resolve(conn);
        },
        (err: Error) => {
          if (!waiting) return;
          waiting = false;
          clearTimeout(timer);
          reject(poolError(err, this.role));
        },
      );
    });
  }

  // Every execute/query on the connection gets the statement timer; other methods pass through.
  private bounded(conn: mysql.PoolConnection, observe: boolean): mysql.PoolConnection {
    const timed =
      (method: "execute" | "query") =>
      (...args: unknown[]) =>
        this.statement(conn, () => (conn[method] as (...a: unknown[]) => Promise<unknown>).apply(conn, args), observe);
    return new Proxy(conn, {
      get: (target, prop) => {
        if (prop === "execute" || prop === "query") return timed(prop);
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Run one statement on `conn`, timed (metrics) and timed out: on timeout the connection is destroyed. */
  statement<T>(conn: mysql.PoolConnection, run: () => Promise<T>, observe = true): Promise<T> {
    const end = observe ? dbQueryDuration.startTimer({ pool: this.role }) : () => 0;
    return new Promise<T>((resolve, reject) => {
      let pending = true;
      const settle = (outcome: "ok" | "error" | "timeout", done: () => void) => {
        if (!pending) return;
        pending = false;
        clearTimeout(timer);
        end({ outcome });
        done();
      };
      const timer = setTimeout(() => {
        const ms = this.bounds.statementTimeoutMs;
        settle("timeout", () => {
          // Destroying fails whatever else is queued on the connection and keeps it out of the pool.
          conn.destroy();
          reject(new PoolError("DB_STATEMENT_TIMEOUT", `no answer from the ${this.role} within ${ms} ms`));
        });
      }, this.bounds.statementTimeoutMs);
      run().then(
        (result) => settle("ok", () => resolve(result)),
        (err: unknown) => settle("error", () => reject(err)),
      );
    });
  }

  /** Close the pool. */
  end(): Promise<void> {
    return this.pool.end();
  }
}

// mysql2 reports a full queue and a closed pool as bare Errors: give them codes.
function poolError(err: Error, role: string): Error {
  if (err.message === "Queue limit reached.") return new PoolError("DB_QUEUE_FULL", `the ${role} pool's queue is full`);
  if (err.message === "Pool is closed.") return new PoolError("DB_POOL_CLOSED", `the ${role} pool is closed`);
  return err;
}
