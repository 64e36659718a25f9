import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { hostPort } from "../../infra/topology";
import { localBackupEnv } from "../../infra/targets/local/components/backups";
import { replicaStatus } from "../../infra/targets/local/components/mysql";
import type { StackContext } from "../../infra/targets/local/context";
import type { Manifest } from "../../services/src/backup/store";
import { buildBuyers } from "../flash-sales/support";
import { mysqlSocket, testAddresses, testTopology } from "../stack/clients";
import { first, present } from "../support/checked";
import { repoRoot, testLayout } from "../stack/test-stack";

// Backups and restore drills against the live test stack, run as the CronJobs and on-call run them.
const ctx = () =>
  ({
    topology: testTopology(),
    addresses: testAddresses(),
    layout: testLayout(),
    bindHost: "127.0.0.1",
  }) as StackContext;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fg-backups-"));

/** Run the backup service's CLI into `dir`, or with `store` (e.g. the S3 variables) in its place. */
async function backupCli(...args: string[]): Promise<{ code: number; out: string }> {
  return backupCliWith({ BACKUP_DIR: dir }, ...args);
}

async function backupCliWith(
  store: Record<string, string | undefined>,
  ...args: string[]
): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "services/src/main/backup.ts", ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, ...localBackupEnv(ctx()), BACKUP_DIR: undefined, ...store },
        timeout: 120_000,
      },
    );
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(e.code ?? -1), out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

const manifests = (kind: string): Manifest[] =>
  fs
    .readdirSync(dir)
    .filter((d) => d.startsWith(`${kind}-`))
    .map((d) => JSON.parse(fs.readFileSync(path.join(dir, d, "manifest.json"), "utf8")) as Manifest);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("backups", () => {
  it("the stack runs the backup service: /health and the backup metrics", async () => {
    const base = `http://${hostPort(testAddresses().backups!)}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("floodgate_backup_failures_total");
  });

  it("takes a consistent MariaDB backup from the replica while writes go on, and restarts its applier", async () => {
    let writing = true;
    const writes = (async () => {
      let n = 0;
      while (writing) n += (await buildBuyers(20)).length;
      return n;
    })();
    const result = await backupCli("--once", "mysql");
    writing = false;
    expect(await writes).toBeGreaterThan(0);
    expect(result).toMatchObject({ code: 0 });
    const m = first(manifests("mysql"), "a MariaDB backup manifest");
    expect(m.gtid).toMatch(/^\d+-\d+-\d+/);
    expect(m.tables?.users?.rows).toBeGreaterThan(0);
    expect(m.files.map((f) => f.name)).toEqual(["dump.sql"]);
    const status = await replicaStatus(mysqlSocket("mysql-replica-1"));
    expect([status.Slave_IO_Running, status.Slave_SQL_Running]).toEqual(["Yes", "Yes"]);
  });

  it("snapshots every Redis master", async () => {
    expect(await backupCli("--once", "redis")).toMatchObject({ code: 0 });
    const m = first(manifests("redis"), "a Redis backup manifest");
    expect(m.files).toHaveLength(testTopology().redis.masters);
    for (const f of m.files) expect(f.bytes).toBeGreaterThan(0);
  });

  it("restores the newest MariaDB backup into a scratch server and verifies every table", async () => {
    const drill = await backupCli("--drill");
    expect(drill.code).toBe(0);
    const result = JSON.parse(drill.out) as { ok: boolean; rtoSeconds: number; rpoSeconds: number; problems: string[] };
    expect(result).toMatchObject({ ok: true, problems: [] });
    expect(result.rtoSeconds).toBeGreaterThan(0);
    process.stdout.write(
      `  restore drill: RTO ${result.rtoSeconds.toFixed(2)} s, RPO ${result.rpoSeconds.toFixed(1)} s\n`,
    );
  });

  it("fails the drill, saying why, when the restored data differs from the manifest or a file is corrupt", async () => {
    const m = first(manifests("mysql"), "a MariaDB backup manifest");
    const manifestFile = path.join(dir, m.id, "manifest.json");
    const users = present(m.tables?.users, "the users table in the manifest");
    const tampered = { ...m, tables: { ...m.tables, users: { ...users, rows: users.rows + 1 } } };
    fs.writeFileSync(manifestFile, JSON.stringify(tampered));
    const differs = await backupCli("--drill");
    expect(differs.code).toBe(1);
    expect(differs.out).toMatch(/users: \d+ rows restored, \d+ backed up/);

    fs.writeFileSync(manifestFile, JSON.stringify(m));
    fs.appendFileSync(path.join(dir, m.id, "dump.sql"), "-- corrupted\n");
    const corrupt = await backupCli("--drill");
    expect(corrupt.code).toBe(1);
    expect(corrupt.out).toContain("dump.sql: sha256");
  });

  it("refuses an unknown kind with a usage error", async () => {
    expect(await backupCli("--once", "postgres")).toMatchObject({
      code: 64,
      out: expect.stringContaining("--once postgres"),
    });
  });
});

describe("backups into a bucket over S3 (s3rver on 127.0.0.1)", () => {
  const bucket = "fg-int-backups";
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fg-backups-work-"));
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "fg-s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: data });
  let s3: S3Client;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    const { port } = await server.run();
    const endpoint = `http://127.0.0.1:${port}`;
    // s3rver's built-in account.
    const keys = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
    s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: keys });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    env = {
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY: keys.accessKeyId,
      S3_SECRET_KEY: keys.secretAccessKey,
      BACKUP_WORK_DIR: work,
    };
  });

  afterAll(async () => {
    s3.destroy();
    await server.close();
    for (const d of [work, data]) fs.rmSync(d, { recursive: true, force: true });
  });

  it("uploads a MariaDB backup into the bucket and restores it from there; a tampered object fails the drill", async () => {
    expect(await backupCliWith(env, "--once", "mysql")).toMatchObject({ code: 0 });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
    expect(keys).toEqual([
      expect.stringMatching(/^mysql-\d{8}T\d{9}Z\/dump\.sql$/),
      expect.stringMatching(/\/manifest\.json$/),
    ]);
    expect(fs.readdirSync(work)).toEqual([]); // uploaded, then the local copy removed

    const drill = await backupCliWith(env, "--drill");
    expect(drill.code).toBe(0);
    expect(JSON.parse(drill.out)).toMatchObject({ ok: true, problems: [] });

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keys[0], Body: "-- tampered\n" }));
    const corrupt = await backupCliWith(env, "--drill");
    expect(corrupt.code).toBe(1);
    expect(corrupt.out).toContain("dump.sql: sha256");
    expect(fs.readdirSync(work)).toEqual([]); // the download is gone too
  });
});
