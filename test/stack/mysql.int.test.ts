import type { RowDataPacket } from "mysql2";
import { randomUUID } from "node:crypto";
import { replicaStatus } from "../../infra/targets/local/components/mysql";
import { first } from "../support/checked";
import { eventually, mysqlAs, mysqlSocket, testAddresses } from "./clients";

describe("MariaDB primary and replica", () => {
  const a = testAddresses();

  it("replicates a row written on the primary to the replica", async () => {
    const primary = await mysqlAs("migrator", a.mysqlPrimary);
    const replica = await mysqlAs("app", first(a.mysqlReplicas, "a MariaDB replica"));
    try {
      await primary.query("CREATE TABLE IF NOT EXISTS replication_probe (id CHAR(36) PRIMARY KEY, note VARCHAR(64))");
      const id = randomUUID();
      await primary.query("INSERT INTO replication_probe (id, note) VALUES (?, 'written on the primary')", [id]);

      const note = await eventually(async () => {
        const [rows] = await replica.query<RowDataPacket[]>("SELECT note FROM replication_probe WHERE id = ?", [id]);
        return rows[0]?.note as string | undefined;
      });
      expect(note).toBe("written on the primary");
    } finally {
      await Promise.all([primary.end(), replica.end()]);
    }
  });

  it("refuses a write by the app user on the read-only replica", async () => {
    const replica = await mysqlAs("app", first(a.mysqlReplicas, "a MariaDB replica"));
    try {
      await eventually(async () => (await replica.query("SELECT 1 FROM replication_probe LIMIT 1"), true));
      await expect(
        replica.query("INSERT INTO replication_probe (id, note) VALUES (UUID(), 'sneaky')"),
      ).rejects.toMatchObject({
        code: "ER_OPTION_PREVENTS_STATEMENT",
      });
    } finally {
      await replica.end();
    }
  });

  it("gives the app user no schema privileges on the primary", async () => {
    const primary = await mysqlAs("app", a.mysqlPrimary);
    try {
      await expect(primary.query("CREATE TABLE app_may_not (id INT)")).rejects.toMatchObject({
        code: "ER_TABLEACCESS_DENIED_ERROR",
      });
    } finally {
      await primary.end();
    }
  });

  it("runs the replica with GTID replication and both threads running", async () => {
    const status = await replicaStatus(mysqlSocket("mysql-replica-1"));
    expect(status).toMatchObject({ Slave_IO_Running: "Yes", Slave_SQL_Running: "Yes", Using_Gtid: "Slave_Pos" });
  });
});
