import mysql from "mysql2/promise";
import type { ServiceConfig } from "./config";

/** The writer pool (primary) and one reader pool per replica. */
export interface Database {
  writer: mysql.Pool;
  readers: mysql.Pool[];
  close(): Promise<void>;
}

/** Create the pools; the only place in the services that opens MySQL connections. */
export function createDatabase(config: ServiceConfig, connectionLimit = 10): Database {
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
    });
  const writer = pool(config.MYSQL_PRIMARY.host, config.MYSQL_PRIMARY.port);
  const readers = config.MYSQL_REPLICAS.map((r) => pool(r.host, r.port));
  return {
    writer,
    readers,
    async close() {
      await Promise.allSettled([writer.end(), ...readers.map((r) => r.end())]);
    },
  };
}
