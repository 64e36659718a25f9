import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mysql, { type RowDataPacket } from "mysql2/promise";
import { unixSocketPath } from "../../infra/targets/local/context";
import { readConservation } from "../../services/src/modules/ledger/conservation";
import { migrate } from "../../services/src/platform/migrate";
import { repoRoot, testLayout } from "./test-stack";

const MIGRATIONS = path.join(repoRoot, "services", "migrations");

/** A scratch database on the test stack's primary, as root over its socket; dropped after. */
async function scratchDatabase() {
  const name = `mig_${randomBytes(4).toString("hex")}`;
  const conn = await mysql.createConnection({
    socketPath: unixSocketPath(testLayout().dir("mysql-primary"), "mysqld.sock"),
    user: "root",
    multipleStatements: true,
  });
  await conn.query(`CREATE DATABASE ${name}`);
  await conn.query(`USE ${name}`);
  return {
    conn,
    async drop() {
      await conn.query(`DROP DATABASE ${name}`);
      await conn.end();
    },
  };
}

/** A folder holding the first `n` migration files, as a database of an older release had them. */
function firstMigrations(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floodgate-migrations-"));
  for (const file of fs.readdirSync(MIGRATIONS).sort().slice(0, n))
    fs.copyFileSync(path.join(MIGRATIONS, file), path.join(dir, file));
  return dir;
}

describe("migration 002 (the ledger) on a database that already holds money", () => {
  it("opens a ledger that balances: existing balances and live packets conserved, tokens given", async () => {
    const db = await scratchDatabase();
    try {
      await migrate(db.conn, firstMigrations(1));
      // Before the ledger: A holds 500 (100 of it grabbed from B's packet), B made a packet of 300
      // (200 still in it, never debited) and a refunded one; C holds nothing.
      await db.conn.query(`
        INSERT INTO users (id, username, password_hash, balance_cents) VALUES (1, 'a', 'x', 500), (2, 'b', 'x', 40), (3, 'c', 'x', 0);
        INSERT INTO red_packets (id, creator_id, amount_cents, count, remaining_count, remaining_cents, expires_at, refunded_at)
          VALUES (1, 2, 300, 3, 2, 200, NOW(3) + INTERVAL 1 HOUR, NULL), (2, 2, 50, 1, 0, 0, NOW(3) - INTERVAL 1 HOUR, NOW(3));
        INSERT INTO red_packet_grabs (packet_id, user_id, amount_cents) VALUES (1, 1, 100);`);

      expect(await migrate(db.conn, MIGRATIONS)).toEqual(["002_ledger.sql"]);

      await db.conn.beginTransaction();
      const conservation = await readConservation(db.conn);
      await db.conn.commit();
      expect(conservation).toEqual({
        balancesCents: 540,
        heldCents: 200,
        mintedCents: 740,
        imbalanceCents: 0,
        accountsMismatched: 0,
      });
      const [rows] = await db.conn.query<RowDataPacket[]>("SELECT token FROM red_packets ORDER BY id");
      const tokens = rows.map((r) => String(r.token));
      expect(tokens).toEqual([
        expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      ]);
      const [firstToken, secondToken] = tokens;
      expect(firstToken).not.toBe(secondToken);
      await expect(db.conn.query("UPDATE users SET balance_cents = -1 WHERE id = 3")).rejects.toThrow(/CONSTRAINT/);
    } finally {
      await db.drop();
    }
  });
});
