import type mysql from "mysql2/promise";
import { Counter } from "prom-client";
import { first } from "./checked";
import type { ServiceConfig } from "./config";
import { BoundedPool, DEFAULT_POOL_BOUNDS, leavesConnectionUnusable, type PoolBounds } from "./db-pool";
import type { Logger } from "./log";
import type { ReadYourWrites } from "./read-your-writes";

/** One query parameter. */
export type Param = string | number | bigint | boolean | Date | null | Buffer;
/** Query parameters. */
export type Params = Param[];
/** A connection inside a transaction. */
export type Tx = mysql.PoolConnection;

// Connection-level failures, a server that refuses writes for now (read-only during a failover,
// shutting down, out of connections), and waits that ran out (our pool's bounds, mysql2's query
// timeout, InnoDB's lock wait): the database is away or busy, the statement itself is fine.
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_CONNECTION_KILLED",
  "ER_OPTION_PREVENTS_STATEMENT",
  "ER_READ_ONLY_MODE",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_LOCK_WAIT_TIMEOUT",
  "ER_STATEMENT_TIMEOUT",
  "DB_ACQUIRE_TIMEOUT",
  "DB_QUEUE_FULL",
  "DB_POOL_CLOSED",
  "DB_STATEMENT_TIMEOUT",
]);

/** How many times a transaction chosen as a deadlock victim is run in all. */
const DEADLOCK_ATTEMPTS = 5;

/**
 * True when `err` says the database cannot be reached or cannot take writes right now, as opposed to
 * a statement that failed on its own merits: the first is worth waiting out, the second is not.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; fatal?: unknown } | null;
  return Boolean(e && (e.fatal === true || (typeof e.code === "string" && UNREACHABLE_CODES.has(e.code))));
}

/** Committed writes whose read-your-writes mark could not be taken (the GTID read or the Redis record failed). */
export const dbWriteMarksLost = new Counter({
  name: "floodgate_db_write_marks_lost_total",
  help: "Committed writes whose read-your-writes mark failed; that scope reads the primary for a while",
});

// How long a scope whose mark was lost reads only the primary (in this process): as long as a mark
// in Redis would have lived. Bounded, so a long Redis outage cannot grow it without limit.
const PRIMARY_ONLY_MS = 60_000;
const PRIMARY_ONLY_MAX_SCOPES = 100_000;
// A replica that just failed (down, frozen, queue full) is skipped this long, so a frozen replica
// costs one bounded wait per process, not one per read.
const REPLICA_SKIP_MS = 5000;

/** A replica's pool, and until when (ms since the epoch) reads skip it after it failed. */
interface Replica {
  pool: BoundedPool;
  skipUntil: number;
}

/**
 * The only place that opens MySQL connections: a writer pool on the primary and reader pools on
 * the replicas, every statement timed and bounded (see BoundedPool). Reads scoped to a user
 * (`scope`) are read-your-writes: they go to a replica only once it has applied that user's last
 * write (GTID), otherwise to the primary. A committed write never fails afterwards: when its mark
 * cannot be taken, the scope reads the primary for a while instead.
 */
export class Database {
  /** The primary's mysql2 pool (for callers that only ping it). */
  readonly writer: mysql.Pool;
  /** The replicas' mysql2 pools. */
  readonly readers: mysql.Pool[];
  private readonly primary: BoundedPool;
  private readonly replicas: Replica[];
  private readonly primaryOnly = new Map<string, number>();
  private next = 0;

  constructor(
    config: ServiceConfig,
    private readonly ryw: ReadYourWrites,
    bounds: number | Partial<PoolBounds> = {},
    private readonly log?: Logger,
  ) {
    const limits = { ...DEFAULT_POOL_BOUNDS, ...(typeof bounds === "number" ? { connectionLimit: bounds } : bounds) };
    const pool = (role: "writer" | "reader", host: string, port: number) =>
      new BoundedPool(
        role,
        {
          host,
          port,
          user: config.MYSQL_USER,
          password: config.MYSQL_PASSWORD,
          database: config.MYSQL_DATABASE,
          enableKeepAlive: true,
          dateStrings: false,
          supportBigNumbers: true,
          bigNumberStrings: false,
        },
        limits,
      );
    this.primary = pool("writer", config.MYSQL_PRIMARY.host, config.MYSQL_PRIMARY.port);
    this.replicas = config.MYSQL_REPLICAS.map((r) => ({ pool: pool("reader", r.host, r.port), skipUntil: 0 }));
    this.writer = this.primary.pool;
    this.readers = this.replicas.map((r) => r.pool.pool);
  }

  /**
   * Run `fn` in one transaction on the primary; afterwards `scope`'s reads see this write. A
   * transaction InnoDB chose as a deadlock victim (it rolled all of it back) runs again, up to
   * DEADLOCK_ATTEMPTS times a few milliseconds apart — concurrent inserts of one unique key deadlock
   * as a matter of course — so `fn` must touch nothing but `tx`.
   */
  async transaction<T>(scope: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(scope, fn);
      } catch (err) {
        if ((err as { code?: unknown }).code !== "ER_LOCK_DEADLOCK" || attempt >= DEADLOCK_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, attempt * (5 + Math.random() * 20)));
      }
    }
  }

  private async transactionOnce<T>(scope: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.primary.use(async (conn) => {
      await conn.query("START TRANSACTION");
      let result: T;
      try {
        result = await fn(conn);
        await conn.query("COMMIT");
      } catch (err) {
        // A connection that timed out or broke is destroyed instead, which rolls the server back.
        if (!leavesConnectionUnusable(err)) await conn.query("ROLLBACK").catch(() => conn.destroy());
        throw err;
      }
      if (scope) await this.markWrite(conn, scope);
      return result;
    });
  }

  /** One write statement on the primary (autocommit); afterwards `scope`'s reads see it. */
  async write<T = mysql.ResultSetHeader>(scope: string | null, sql: string, params: Params = []): Promise<T> {
    return this.primary.use(async (conn) => {
      const [result] = await conn.execute(sql, params);
      if (scope) await this.markWrite(conn, scope);
      return result as T;
    });
  }

  /** Read rows: from a replica that has `scope`'s last write, else from the primary. */
  async read<T>(sql: string, params: Params = [], scope?: string): Promise<T[]> {
    if (scope && this.readsPrimaryOnly(scope)) return this.readPrimary<T>(sql, params);
    const gtid = scope ? await this.ryw.lastWrite(scope) : null;
    const replica = this.pickReplica();
    if (gtid === "unknown" || replica === null) return this.readPrimary<T>(sql, params);
    try {
      const rows = await replica.pool.use(async (conn) => {
        if (gtid) {
          const [wait] = await conn.query<mysql.RowDataPacket[]>("SELECT MASTER_GTID_WAIT(?, 0) AS w", [gtid]);
          // Not 0: the replica lacks the user's last write.
          if (Number(first(wait, "MASTER_GTID_WAIT's answer").w) !== 0) return null;
        }
        const [found] = await conn.execute(sql, params);
        return found as T[];
      });
      return rows ?? (await this.readPrimary<T>(sql, params));
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      // A replica down or frozen costs the primary a read, never the client an error.
      replica.skipUntil = Date.now() + REPLICA_SKIP_MS;
      return this.readPrimary<T>(sql, params);
    }
  }

  /** Read rows from the primary (for reads that must not lag, such as checks before a write). */
  async readPrimary<T>(sql: string, params: Params = []): Promise<T[]> {
    return this.primary.use(async (conn) => (await conn.execute(sql, params))[0] as T[]);
  }

  /** Answer `SELECT 1` on the primary or on replica `index` (health checks), within the pool's bounds. */
  async ping(server: "primary" | number): Promise<void> {
    const pool = server === "primary" ? this.primary : this.replicas[server]?.pool;
    if (!pool) throw new Error(`no replica ${server}: there are ${this.replicas.length}`);
    await pool.use((conn) => conn.query("SELECT 1"), { observe: false }); // probes are not the app's queries
  }

  // Round robin over the replicas not recently failed; null when none is left.
  private pickReplica(): Replica | null {
    const now = Date.now();
    for (let tried = 0; tried < this.replicas.length; tried++) {
      const replica = this.replicas[this.next++ % this.replicas.length];
      if (replica && replica.skipUntil <= now) return replica;
    }
    return null;
  }

  private readsPrimaryOnly(scope: string): boolean {
    const until = this.primaryOnly.get(scope);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.primaryOnly.delete(scope);
    return false;
  }

  // After the commit: nothing here may fail the request, the write is done.
  private async markWrite(conn: mysql.PoolConnection, scope: string): Promise<void> {
    try {
      // Not @@last_gtid: after a statement that wrote nothing it still holds this pooled connection's
      // previous write, which may be older than the user's last one. The binlog position right after
      // the commit is never older than the write; waiting for it is conservative and always correct.
      const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT @@global.gtid_binlog_pos AS gtid");
      const gtid = String(rows[0]?.gtid ?? "");
      if (gtid && !(await this.ryw.recordWrite(scope, gtid))) throw new Error("Redis did not store the mark");
    } catch (err) {
      dbWriteMarksLost.inc();
      this.log?.warn({ scope, err: (err as Error).message }, "read-your-writes mark lost; the scope reads the primary");
      // Only this process knows: the others read a replica whose lag is normally milliseconds.
      this.primaryOnly.delete(scope);
      this.primaryOnly.set(scope, Date.now() + PRIMARY_ONLY_MS);
      if (this.primaryOnly.size > PRIMARY_ONLY_MAX_SCOPES)
        this.primaryOnly.delete(this.primaryOnly.keys().next().value!);
    }
  }

  /** Close every pool. */
  async close(): Promise<void> {
    await Promise.allSettled([this.primary.end(), ...this.replicas.map((r) => r.pool.end())]);
  }
}
