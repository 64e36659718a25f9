import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { backupId, FsBackupStore, toPrune, type Manifest } from "./store";
import { parseBackupEnv } from "./config";

const day = 86_400_000;
const now = new Date("2026-11-28T12:00:00Z");
const at = (daysAgo: number): Manifest => {
  const createdAt = new Date(now.getTime() - daysAgo * day).toISOString();
  return { id: `mysql-${daysAgo}`, kind: "mysql", createdAt, source: "r:1", files: [], durationSeconds: 1 };
};

describe("toPrune", () => {
  it("removes backups past retentionDays beyond the newest keepLast", () => {
    const all = [0, 1, 2, 8, 9, 10].map(at);
    expect(toPrune(all, { retentionDays: 7, keepLast: 4, now }).map((b) => b.id)).toEqual(["mysql-9", "mysql-10"]);
  });
  it("keeps every backup younger than retentionDays, however many", () => {
    expect(toPrune([0, 1, 2, 3].map(at), { retentionDays: 7, keepLast: 1, now })).toEqual([]);
  });
  it("never removes the newest backup, even when everything is old", () => {
    expect(toPrune([30, 40].map(at), { retentionDays: 7, keepLast: 1, now }).map((b) => b.id)).toEqual(["mysql-40"]);
  });
});

describe("FsBackupStore", () => {
  it("publishes a backup with its checksums only at commit, and lists newest first", async () => {
    const store = new FsBackupStore(fs.mkdtempSync(path.join(os.tmpdir(), "store-")));
    const first = await store.begin("mysql-a");
    fs.writeFileSync(path.join(first, "dump.sql"), "hello");
    expect(await store.list()).toEqual([]); // in progress: invisible
    await store.commit(first, {
      id: "mysql-a",
      kind: "mysql",
      createdAt: "2026-01-01T00:00:00Z",
      source: "s",
      durationSeconds: 1,
    });
    const second = await store.begin("mysql-b");
    await store.commit(second, {
      id: "mysql-b",
      kind: "mysql",
      createdAt: "2026-01-02T00:00:00Z",
      source: "s",
      durationSeconds: 1,
    });
    const listed = await store.list("mysql");
    expect(listed.map((m) => m.id)).toEqual(["mysql-b", "mysql-a"]);
    expect(listed[1].files).toEqual([
      { name: "dump.sql", bytes: 5, sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" },
    ]);
  });
  it("names backups sortably to the millisecond", () => {
    expect(backupId("redis", new Date("2026-11-28T12:00:00.123Z"))).toBe("redis-20261128T120000123Z");
  });
});

describe("parseBackupEnv", () => {
  const good = {
    HTTP_PORT: "8096",
    BACKUP_SCHEDULE: "15 */6 * * *",
    BACKUP_RETENTION_DAYS: "7",
    BACKUP_KEEP_LAST: "8",
    BACKUP_MYSQL_SOURCE: "127.0.0.1:13307",
    MYSQL_DATABASE: "floodgate",
    BACKUP_MYSQL_USER: "floodgate_backup",
    BACKUP_MYSQL_PASSWORD: "secret",
    BACKUP_REDIS_NODES: "127.0.0.1:17001,127.0.0.1:17002",
    BACKUP_REDIS_USER: "admin",
    BACKUP_REDIS_PASSWORD: "secret",
    BACKUP_DIR: "/tmp/b",
  };
  it("reads the variables the Pulumi programs set", () => {
    expect(parseBackupEnv(good)).toMatchObject({
      HTTP_PORT: 8096,
      BACKUP_REDIS_NODES: ["127.0.0.1:17001", "127.0.0.1:17002"],
    });
  });
  it.each([
    [{ BACKUP_SCHEDULE: "hourly" }, /BACKUP_SCHEDULE = "hourly": a five-field cron expression/],
    [{ BACKUP_MYSQL_SOURCE: "replica" }, /BACKUP_MYSQL_SOURCE = "replica": host:port/],
    [{ BACKUP_MYSQL_PASSWORD: "" }, /BACKUP_MYSQL_PASSWORD = \(hidden\)/],
    [
      { BACKUP_DIR: undefined, S3_ENDPOINT: "http://bucket:8333" },
      /BACKUP_DIR = \(unset\): required \(the S3 store at http:\/\/bucket:8333 is not implemented yet\)/,
    ],
  ])("names the variable and value of a bad setting: %j", (change, message) => {
    expect(() => parseBackupEnv({ ...good, ...change })).toThrow(message);
  });
});
