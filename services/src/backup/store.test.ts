import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { exactly } from "../../../test/support/checked";
import { backupId, CorruptBackupError, FsBackupStore, toPrune, type Manifest } from "./store";

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
    const [, older] = exactly(listed, 2, "MySQL backups");
    expect(older.files).toEqual([
      { name: "dump.sql", bytes: 5, sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" },
    ]);
  });
  it("verifies a backup's files in place for a restore, and fails loudly on a corrupt one", async () => {
    const store = new FsBackupStore(fs.mkdtempSync(path.join(os.tmpdir(), "store-")));
    const work = await store.begin("mysql-c");
    fs.writeFileSync(path.join(work, "dump.sql"), "hello");
    const m = await store.commit(work, {
      id: "mysql-c",
      kind: "mysql",
      createdAt: "2026-01-03T00:00:00Z",
      source: "s",
      durationSeconds: 1,
    });
    const local = await store.fetch(m);
    expect(fs.readFileSync(path.join(local.dir, "dump.sql"), "utf8")).toBe("hello");
    fs.appendFileSync(path.join(local.dir, "dump.sql"), "!");
    const err = await store.fetch(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptBackupError);
    expect(String(err)).toContain("mysql-c/dump.sql: sha256");
    await store.remove("mysql-c");
    expect(await store.list()).toEqual([]);
  });
  it("names backups sortably to the millisecond", () => {
    expect(backupId("redis", new Date("2026-11-28T12:00:00.123Z"))).toBe("redis-20261128T120000123Z");
  });
});
