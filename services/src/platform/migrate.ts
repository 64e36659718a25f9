import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type mysql from "mysql2/promise";
import { first } from "./checked";

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;
const LOCK = "floodgate.migrations";

/** A migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Read `NNN_name.sql` files in version order. */
export function readMigrations(dir: string): Migration[] {
  return fs
    .readdirSync(dir)
    .flatMap((file) => {
      const m = FILE.exec(file);
      if (!m) return [];
      const sql = fs.readFileSync(path.join(dir, file), "utf8");
      return [{ version: Number(m[1]), name: file, sql, checksum: createHash("sha256").update(sql).digest("hex") }];
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * Apply pending migrations under a MariaDB named lock, so concurrent starters apply each once.
 * Applied files must not change (checksums). The connection needs `multipleStatements`.
 * MariaDB commits DDL implicitly: a file that fails half-way must be repaired by hand, so keep
 * each file to statements that are safe to re-run or small enough to fix.
 */
export async function migrate(conn: mysql.Connection, dir: string): Promise<string[]> {
  const [locked] = await conn.query<mysql.RowDataPacket[]>("SELECT GET_LOCK(?, 60) AS got", [LOCK]);
  if (Number(first(locked, "GET_LOCK's answer").got) !== 1)
    throw new Error("another process holds the migration lock for over 60 s");
  try {
    await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INT UNSIGNED NOT NULL PRIMARY KEY,
      name VARCHAR(255) NOT NULL,
      checksum CHAR(64) NOT NULL,
      applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ENGINE=InnoDB`);
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT version, name, checksum FROM schema_migrations");
    const applied = new Map(rows.map((r) => [Number(r.version), r]));
    const done: string[] = [];
    for (const migration of readMigrations(dir)) {
      const previous = applied.get(migration.version);
      if (previous) {
        if (previous.checksum !== migration.checksum) {
          throw new Error(`migration ${migration.name} changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      await conn.query(migration.sql);
      await conn.query("INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)", [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      done.push(migration.name);
    }
    return done;
  } finally {
    await conn.query("SELECT RELEASE_LOCK(?)", [LOCK]);
  }
}
