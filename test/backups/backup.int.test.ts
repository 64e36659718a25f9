import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { hostPort } from "../../infra/topology";
import { localBackupEnv } from "../../scripts/stack/components/backups";
import { mysqlSockets, replicaStatus } from "../../scripts/stack/components/mysql";
import type { StackContext } from "../../scripts/stack/context";
import type { Manifest } from "../../services/src/backup/store";
import { buildBuyers } from "../flash-sales/support";
import { testAddresses, testTopology } from "../stack/clients";
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

async function backupCli(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "services/src/main/backup.ts", ...args],
      { cwd: repoRoot, env: { ...process.env, ...localBackupEnv(ctx()), BACKUP_DIR: dir }, timeout: 120_000 },
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
    const [m] = manifests("mysql");
    expect(m.gtid).toMatch(/^\d+-\d+-\d+/);
    expect(m.tables?.users.rows).toBeGreaterThan(0);
    expect(m.files.map((f) => f.name)).toEqual(["dump.sql"]);
    const status = await replicaStatus(mysqlSockets(ctx())["mysql-replica-1"]);
    expect([status.Slave_IO_Running, status.Slave_SQL_Running]).toEqual(["Yes", "Yes"]);
  });

  it("snapshots every Redis master", async () => {
    expect(await backupCli("--once", "redis")).toMatchObject({ code: 0 });
    const [m] = manifests("redis");
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
    const [m] = manifests("mysql");
    const manifestFile = path.join(dir, m.id, "manifest.json");
    const tampered = { ...m, tables: { ...m.tables, users: { ...m.tables!.users, rows: m.tables!.users.rows + 1 } } };
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
