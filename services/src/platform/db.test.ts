import net from "node:net";
import mysql from "mysql2/promise";
import { isDatabaseUnavailable } from "./db";
import { BoundedPool, DEFAULT_POOL_BOUNDS, type PoolBounds } from "./db-pool";

describe("isDatabaseUnavailable", () => {
  it("is true for a refused connection, as mysql2 reports it", async () => {
    // A port that was free a moment ago: nothing listens on it.
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port: p } = server.address() as net.AddressInfo;
        server.close(() => resolve(p));
      });
    });
    const err = await mysql
      .createConnection({ host: "127.0.0.1", port, connectTimeout: 2000 })
      .catch((e: unknown) => e);
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it("is true for a server that is away or read-only, false for a statement's own failure", () => {
    expect(isDatabaseUnavailable({ code: "PROTOCOL_CONNECTION_LOST", fatal: true })).toBe(true);
    expect(isDatabaseUnavailable({ code: "ER_OPTION_PREVENTS_STATEMENT", errno: 1290 })).toBe(true);
    expect(isDatabaseUnavailable({ code: "ER_CON_COUNT_ERROR" })).toBe(true);
    expect(isDatabaseUnavailable({ code: "ER_DUP_ENTRY", errno: 1062 })).toBe(false);
    expect(isDatabaseUnavailable({ code: "ER_NO_REFERENCED_ROW_2" })).toBe(false);
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });
});

describe("BoundedPool", () => {
  // A listener that accepts connections and never speaks: to mysql2 it looks like a frozen server.
  let silent: net.Server;
  let port: number;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    silent = net.createServer((socket) => sockets.add(socket)).listen(0, "127.0.0.1");
    await new Promise((resolve) => silent.once("listening", resolve));
    port = (silent.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
  });

  const frozenPool = (bounds: Partial<PoolBounds>) =>
    new BoundedPool("writer", { host: "127.0.0.1", port }, { ...DEFAULT_POOL_BOUNDS, ...bounds });

  it("gives up on a connection after acquireTimeoutMs with DB_ACQUIRE_TIMEOUT (mysql2 alone would wait forever)", async () => {
    const pool = frozenPool({ connectionLimit: 1, acquireTimeoutMs: 200, connectTimeoutMs: 60_000 });
    const started = Date.now();
    const err = await pool.use(() => Promise.resolve()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "DB_ACQUIRE_TIMEOUT" });
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    void pool.end().catch(() => undefined);
  });

  it("refuses at once with DB_QUEUE_FULL once queueLimit requests wait", async () => {
    const pool = frozenPool({ connectionLimit: 1, queueLimit: 2, acquireTimeoutMs: 1000, connectTimeoutMs: 60_000 });
    const waiting = Array.from({ length: 3 }, () => pool.acquire().catch((e: unknown) => e)); // 1 connecting, 2 queued
    const refused = await pool.acquire().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "DB_QUEUE_FULL" });
    expect(await Promise.all(waiting)).toEqual(
      [0, 1, 2].map(() => expect.objectContaining({ code: "DB_ACQUIRE_TIMEOUT" })),
    );
    void pool.end().catch(() => undefined);
  });
});
