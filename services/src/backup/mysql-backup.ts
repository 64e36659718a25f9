import path from "node:path";
import mysql from "mysql2/promise";
import { first } from "../platform/checked";
import type { BackupConfig } from "./config";
import { splitHostPort } from "./config";
import { exec } from "./exec";
import type { Manifest } from "./store";

/** Row count and CHECKSUM TABLE of every base table of `database`, on an open connection. */
export async function tableStats(
  conn: mysql.Connection,
  database: string,
): Promise<Record<string, { rows: number; checksum: string }>> {
  const [tables] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
    [database],
  );
  const out: Record<string, { rows: number; checksum: string }> = {};
  for (const { t } of tables as Array<{ t: string }>) {
    const ident = `\`${database}\`.\`${t.replace(/`/g, "``")}\``;
    const [counts] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${ident}`);
    const [sums] = await conn.query<mysql.RowDataPacket[]>(`CHECKSUM TABLE ${ident}`);
    out[t] = {
      rows: Number(first(counts, `the row count of ${ident}`).n),
      checksum: String(first(sums, `the checksum of ${ident}`).Checksum),
    };
  }
  return out;
}

/**
 * A consistent MariaDB backup from a replica: stop its SQL (applier) thread so nothing changes,
 * record gtid_slave_pos, count and checksum every table, dump with mariadb-dump
 * --single-transaction, and start the applier again (always, even when the dump fails). The
 * primary never pauses; the replica lags for the duration and catches up after.
 */
export async function backupMysql(
  config: BackupConfig,
  work: string,
): Promise<Pick<Manifest, "source" | "gtid" | "database" | "tables">> {
  const { host, port } = splitHostPort(config.BACKUP_MYSQL_SOURCE);
  const conn = await mysql.createConnection({
    host,
    port,
    user: config.BACKUP_MYSQL_USER,
    password: config.BACKUP_MYSQL_PASSWORD,
  });
  try {
    const [status] = await conn.query<mysql.RowDataPacket[]>("SHOW SLAVE STATUS");
    if (status.length === 0)
      throw new Error(
        `BACKUP_MYSQL_SOURCE = ${config.BACKUP_MYSQL_SOURCE} is not a replica: backups are taken from a replica so the primary never pauses`,
      );
    await conn.query("STOP SLAVE SQL_THREAD");
    try {
      const [positions] = await conn.query<mysql.RowDataPacket[]>("SELECT @@gtid_slave_pos AS gtid");
      const { gtid } = first(positions, "the replica's gtid_slave_pos");
      const tables = await tableStats(conn, config.MYSQL_DATABASE);
      await exec(
        "mariadb-dump",
        [
          "--no-defaults",
          `--host=${host}`,
          `--port=${port}`,
          `--user=${config.BACKUP_MYSQL_USER}`,
          "--single-transaction",
          "--quick",
          "--triggers",
          "--routines",
          "--events",
          "--hex-blob",
          "--databases",
          config.MYSQL_DATABASE,
        ],
        { env: { MYSQL_PWD: config.BACKUP_MYSQL_PASSWORD }, stdoutFile: path.join(work, "dump.sql") },
      );
      return { source: config.BACKUP_MYSQL_SOURCE, gtid: String(gtid), database: config.MYSQL_DATABASE, tables };
    } finally {
      await conn.query("START SLAVE SQL_THREAD");
    }
  } finally {
    await conn.end();
  }
}
