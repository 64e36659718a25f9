import { createHash, randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, paginateListObjectsV2, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import pino from "pino";
import S3rver from "s3rver";
import { exactly, first } from "../../../test/support/checked";
import type { BackupConfig } from "./config";
import { S3BackupStore } from "./s3-store";
import { BackupService } from "./service";
import { backupId, CorruptBackupError, type BackupKind, type Manifest } from "./store";

// A real S3 API over HTTP (s3rver, on the local filesystem), on 127.0.0.1 and a free port.
const KEYS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }; // s3rver's built-in account
const tmpDirs: string[] = [];
const tmp = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
};
let server: S3rver;
let endpoint: string;
let s3: S3Client;
/** Object-created events in the order the server stored them: "<bucket>/<key> <event>". */
const created: string[] = [];
let buckets = 0;

interface S3rverEvent {
  Records: Array<{ eventName: string; s3: { bucket: { name: string }; object: { key: string } } }>;
}

beforeAll(async () => {
  server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: tmp("fg-s3rver-") });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  (server as unknown as EventEmitter).on("event", (e: S3rverEvent) => {
    for (const r of e.Records)
      if (r.eventName.startsWith("ObjectCreated:"))
        created.push(`${r.s3.bucket.name}/${decodeURIComponent(r.s3.object.key)} ${r.eventName}`);
  });
  s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: KEYS });
});

afterAll(async () => {
  s3.destroy();
  await server.close();
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A store on a fresh bucket of its own, created through the S3 API. */
async function buildStore(overrides: Partial<typeof KEYS> = {}) {
  const bucket = `fg-backups-${++buckets}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const workDir = tmp("fg-s3work-");
  const store = new S3BackupStore({ endpoint, bucket, region: "us-east-1", ...KEYS, ...overrides, workDir });
  return { store, bucket, workDir };
}

/** Take a backup of `files` through the store, as BackupService does. */
async function buildBackup(
  store: S3BackupStore,
  opts: { kind?: BackupKind; at?: Date; files?: Record<string, string | Buffer> } = {},
): Promise<Manifest> {
  const kind = opts.kind ?? "mysql";
  const at = opts.at ?? new Date();
  const id = backupId(kind, at);
  const work = await store.begin(id);
  for (const [name, content] of Object.entries(opts.files ?? { "dump.sql": `-- dump ${id}\n` }))
    fs.writeFileSync(path.join(work, name), content);
  return store.commit(work, { id, kind, createdAt: at.toISOString(), source: "replica:3306", durationSeconds: 1 });
}

async function keys(bucket: string, prefix?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix }))
    out.push(...(page.Contents ?? []).map((o) => o.Key!));
  return out.sort();
}

const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
const day = 86_400_000;

describe("S3BackupStore", () => {
  it("uploads a backup's files under <id>/, its manifest last, and lists complete backups newest first", async () => {
    const { store, bucket, workDir } = await buildStore();
    const older = await buildBackup(store, {
      kind: "redis",
      at: new Date("2026-11-27T00:00:00Z"),
      files: { "slots-0-8191.rdb": "a", "slots-8192-16383.rdb": "bb" },
    });
    const newer = await buildBackup(store, { at: new Date("2026-11-28T00:00:00Z") });

    expect(await keys(bucket)).toEqual([
      `${newer.id}/dump.sql`,
      `${newer.id}/manifest.json`,
      `${older.id}/manifest.json`,
      `${older.id}/slots-0-8191.rdb`,
      `${older.id}/slots-8192-16383.rdb`,
    ]);
    const order = created.filter((e) => e.startsWith(`${bucket}/${older.id}/`)).map((e) => e.split(" ")[0]);
    expect(order.at(-1)).toBe(`${bucket}/${older.id}/manifest.json`);
    expect(order).toHaveLength(3);
    expect(older.files).toEqual([
      { name: "slots-0-8191.rdb", bytes: 1, sha256: sha256("a") },
      { name: "slots-8192-16383.rdb", bytes: 2, sha256: sha256("bb") },
    ]);
    expect((await store.list()).map((m) => m.id)).toEqual([newer.id, older.id]);
    expect(await store.list("redis")).toEqual([older]);
    expect(fs.readdirSync(workDir)).toEqual([]); // the local copy goes once the upload is complete
  });

  it("does not list a backup whose upload stopped before its manifest, nor one with an unreadable manifest", async () => {
    const { store, bucket } = await buildStore();
    const complete = await buildBackup(store);
    const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    await put("mysql-20261128T000000000Z/dump.sql", "half a dump");
    await put("mysql-20261128T010000000Z/dump.sql", "a dump");
    await put("mysql-20261128T010000000Z/manifest.json", "{ not json");

    expect((await store.list()).map((m) => m.id)).toEqual([complete.id]);
  });

  it("uploads a file larger than one part in several parts and downloads it intact", async () => {
    const { store, bucket } = await buildStore();
    const big = randomBytes(6 * 1024 * 1024 + 17);
    const m = await buildBackup(store, { files: { "dump.sql": big } });

    expect(created).toContain(`${bucket}/${m.id}/dump.sql ObjectCreated:Post`); // CompleteMultipartUpload
    const local = await store.fetch(m);
    expect(sha256(fs.readFileSync(path.join(local.dir, "dump.sql")))).toBe(sha256(big));
    await local.release();
  });

  it("downloads a backup into a fresh local work folder that release() removes", async () => {
    const { store, workDir } = await buildStore();
    const m = await buildBackup(store, { files: { "dump.sql": "CREATE TABLE t (id INT);\n" } });

    const local = await store.fetch(m);
    expect(path.dirname(local.dir)).toBe(workDir);
    expect(fs.readFileSync(path.join(local.dir, "dump.sql"), "utf8")).toBe("CREATE TABLE t (id INT);\n");
    await local.release();
    expect(fs.readdirSync(workDir)).toEqual([]);
  });

  it("fails loudly on a corrupted object, naming the file, and keeps no download", async () => {
    const { store, bucket, workDir } = await buildStore();
    const m = await buildBackup(store);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${m.id}/dump.sql`, Body: "-- tampered\n" }));

    const err = await store.fetch(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptBackupError);
    expect((err as CorruptBackupError).problems).toEqual([
      `${m.id}/dump.sql: sha256 ${sha256("-- tampered\n")} ≠ manifest ${first(m.files, "the dump").sha256} (corrupt backup)`,
    ]);
    expect(fs.readdirSync(workDir)).toEqual([]);
  });

  it("fails loudly on a missing object and on a manifest naming a file outside the backup", async () => {
    const { store } = await buildStore();
    const m = await buildBackup(store);

    const gone = { ...m, files: [...m.files, { name: "extra.rdb", bytes: 1, sha256: sha256("x") }] };
    await expect(store.fetch(gone)).rejects.toThrow(`${m.id}/extra.rdb: sha256 missing`);
    const escaping = { ...m, files: [{ ...first(m.files, "the dump"), name: "../../etc/passwd" }] };
    await expect(store.fetch(escaping)).rejects.toThrow("unsafe file name ../../etc/passwd");
  });

  it("removes every object under a backup's prefix, and nothing of a backup whose id it prefixes", async () => {
    const { store, bucket } = await buildStore();
    const doomed = await buildBackup(store, { kind: "redis", files: { "a.rdb": "a", "b.rdb": "b" } });
    const put = (Key: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: "x" }));
    await put(`${doomed.id}0/dump.sql`);
    await put(`${doomed.id}0/manifest.json`);

    await store.remove(doomed.id);
    expect(await keys(bucket)).toEqual([`${doomed.id}0/dump.sql`, `${doomed.id}0/manifest.json`]);
    await expect(store.remove("")).rejects.toThrow('backup id "": not a single path segment');
  });

  it("applies retention in the bucket: backups past retentionDays beyond keepLast go, the newest never", async () => {
    const { store, bucket } = await buildStore();
    const now = Date.now();
    const ages = [0, 1, 10, 20] as const;
    const made: Manifest[] = [];
    for (const days of ages) made.push(await buildBackup(store, { at: new Date(now - days * day - 1000) }));
    const [fresh, dayOld, tenDaysOld, twentyDaysOld] = exactly(made, ages.length, "MySQL backups");
    const redis = await buildBackup(store, { kind: "redis", at: new Date(now - 30 * day) });
    const config = { BACKUP_RETENTION_DAYS: 7, BACKUP_KEEP_LAST: 2 } as BackupConfig;
    const service = new BackupService(config, store, pino({ level: "silent" }));

    expect(await service.prune("mysql")).toEqual([tenDaysOld.id, twentyDaysOld.id]);
    expect((await store.list()).map((m) => m.id)).toEqual([fresh.id, dayOld.id, redis.id]);
    expect((await keys(bucket)).filter((k) => k.startsWith(tenDaysOld.id) || k.startsWith(twentyDaysOld.id))).toEqual(
      [],
    );
    expect(await service.prune("redis")).toEqual([]); // the only Redis backup is the newest
  });

  // s3rver checks the access key id but not a SigV4 signature, so only the former is tested here.
  it("signs in with its access key: an unknown one is refused by the server", async () => {
    const { store } = await buildStore({ accessKeyId: "NOT-A-KEY" });
    await expect(store.list()).rejects.toThrow("The AWS Access Key Id you provided does not exist in our records.");
  });
});
