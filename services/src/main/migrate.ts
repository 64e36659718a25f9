/**
 * One-shot: apply pending migrations (as the migrator user), then seed the administrator
 * idempotently. Every target runs it once before a new API version serves.
 */
import path from "node:path";
import mysql from "mysql2/promise";
import { loadAdminSeed, loadConfig } from "../platform/config";
import { createLogger } from "../platform/log";
import { migrate } from "../platform/migrate";
import { hashPassword } from "../platform/passwords";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  const conn = await mysql.createConnection({
    host: config.MYSQL_PRIMARY.host,
    port: config.MYSQL_PRIMARY.port,
    user: config.MYSQL_USER,
    password: config.MYSQL_PASSWORD,
    database: config.MYSQL_DATABASE,
    multipleStatements: true,
  });
  try {
    const applied = await migrate(conn, path.resolve(__dirname, "..", "..", "migrations"));
    log.info({ applied }, applied.length ? "migrations applied" : "schema up to date");
    const admin = loadAdminSeed();
    if (admin) {
      const hash = await hashPassword(admin.password);
      await conn.query("START TRANSACTION");
      const [result] = await conn.query<mysql.ResultSetHeader>(
        `INSERT INTO users (username, password_hash, role) VALUES (?, ?, 'admin')
         ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash), role = 'admin'`,
        [admin.username, hash],
      );
      await conn.query(
        `INSERT IGNORE INTO profiles (user_id, display_name) SELECT id, username FROM users WHERE username = ?`,
        [admin.username],
      );
      await conn.query("COMMIT");
      log.info({ username: admin.username, created: result.affectedRows === 1 }, "administrator seeded");
    }
  } finally {
    await conn.end();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`migrate failed: ${err.message}\n`);
  process.exit(1);
});
