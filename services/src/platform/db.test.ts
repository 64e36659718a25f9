import net from "node:net";
import mysql from "mysql2/promise";
import { isDatabaseUnavailable } from "./db";

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
