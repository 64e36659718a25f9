import mysql from "mysql2/promise";
import type { ServiceConfig } from "./config";
import { dbQueryDuration } from "./metrics";
import type { ReadYourWrites } from "./read-your-writes";

/** One query parameter. */
export type Param = string | number | bigint | boolean | Date | null | Buffer;
/** Query parameters. */
export type Params = Param[];
/** A connection inside a transaction. */
export type Tx = mysql.PoolConnection;

// Connection-level failures and a server that refuses writes for now (read-only during a failover,
// shutting down, out of connections): the database is away, the statement itself is fine.
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
]);

/**
 * True when `err` says the database cannot be reached or cannot take writes right now, as opposed to
 * a statement that failed on its own merits: the first is worth waiting out, the second is not.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; fatal?: unknown } | null;
  return Boolean(e && (e.fatal === true || (typeof e.code === "string" && UNREACHABLE_CODES.has(e.code))));
}

async function timed<T>(pool: "writer" | "reader", run: () => Promise<T>): Promise<T> {
  const end = dbQueryDuration.startTimer({ pool });
  try {
    const result = await run();
    end({ outcome: "ok" });
    return result;
  } catch (err) {
    end({ outcome: "error" });
    throw err;
  }
}

/**
 * The only place that opens MySQL connections: a writer pool on the primary and reader pools on
 * the replicas, every query timed. Reads scoped to a user (`scope`) are read-your-writes: they go
 * to a replica only once it has applied that user's last write (GTID), otherwise to the primary.
 */
export class Database {
  readonly writer: mysql.Pool;
  readonly readers: mysql.Pool[];
  private next = 0;

  constructor(
    config: ServiceConfig,
    private readonly ryw: ReadYourWrites,
    connectionLimit = 20,
  ) {
    const pool = (host: string, port: number) =>
      mysql.createPool({
        host,
        port,
        user: config.MYSQL_USER,
        password: config.MYSQL_PASSWORD,
        database: config.MYSQL_DATABASE,
        connectionLimit,
        connectTimeout: 2000,
        enableKeepAlive: true,
        dateStrings: false,
        supportBigNumbers: true,
        bigNumberStrings: false,
      });
    this.writer = pool(config.MYSQL_PRIMARY.host, config.MYSQL_PRIMARY.port);
    this.readers = config.MYSQL_REPLICAS.map((r) => pool(r.host, r.port));
  }

  /** Run `fn` in one transaction on the primary; afterwards `scope`'s reads see this write. */
  async transaction<T>(scope: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const conn = await this.writer.getConnection();
    try {
      await conn.beginTransaction();
      const result = await timed("writer", () => fn(conn));
      await timed("writer", () => conn.commit());
      if (scope) await this.recordWrite(conn, scope);
      return result;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  /** One write statement on the primary (autocommit); afterwards `scope`'s reads see it. */
  async write<T = mysql.ResultSetHeader>(scope: string | null, sql: string, params: Params = []): Promise<T> {
    const conn = await this.writer.getConnection();
    try {
      const [result] = await timed("writer", () => conn.execute(sql, params));
      if (scope) await this.recordWrite(conn, scope);
      return result as T;
    } finally {
      conn.release();
    }
  }

  /** Read rows: from a replica that has `scope`'s last write, else from the primary. */
  async read<T>(sql: string, params: Params = [], scope?: string): Promise<T[]> {
    const gtid = scope ? await this.ryw.lastWrite(scope) : null;
    if (gtid === "unknown" || this.readers.length === 0) return this.readPrimary<T>(sql, params);
    const reader = this.readers[this.next++ % this.readers.length];
    let conn: mysql.PoolConnection;
    try {
      conn = await reader.getConnection();
    } catch {
      return this.readPrimary<T>(sql, params); // a replica down costs the primary a read, never the client an error
    }
    try {
      if (gtid) {
        const [rows] = await timed("reader", () =>
          conn.query<mysql.RowDataPacket[]>("SELECT MASTER_GTID_WAIT(?, 0) AS w", [gtid]),
        );
        if (Number(rows[0].w) !== 0) return this.readPrimary<T>(sql, params);
      }
      const [rows] = await timed("reader", () => conn.execute(sql, params));
      return rows as T[];
    } finally {
      conn.release();
    }
  }

  /** Read rows from the primary (for reads that must not lag, such as checks before a write). */
  async readPrimary<T>(sql: string, params: Params = []): Promise<T[]> {
    const [rows] = await timed("writer", () => this.writer.execute(sql, params));
    return rows as T[];
  }

  private async recordWrite(conn: mysql.PoolConnection, scope: string): Promise<void> {
    // Not @@last_gtid: after a statement that wrote nothing it still holds this pooled connection's
    // previous write, which may be older than the user's last one. The binlog position right after
    // the commit is never older than the write; waiting for it is conservative and always correct.
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT @@global.gtid_binlog_pos AS gtid");
    const gtid = String(rows[0]?.gtid ?? "");
    if (gtid) await this.ryw.recordWrite(scope, gtid);
  }

  /** Close every pool. */
  async close(): Promise<void> {
    await Promise.allSettled([this.writer.end(), ...this.readers.map((r) => r.end())]);
  }
}
