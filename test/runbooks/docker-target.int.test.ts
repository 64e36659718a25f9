import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { localBackupEnv } from "../../scripts/stack/components/backups";
import { mysqlSockets, rootSql } from "../../scripts/stack/components/mysql";
import type { StackContext } from "../../scripts/stack/context";
import type { StackFileInput } from "../../runbooks/lib/stack-file";
import { eventually, liveQueue, testAddresses, testTopology } from "../stack/clients";
import { testLayout } from "../stack/test-stack";
import { dockerEngineOverStack, failoverDrill, runbook, tcpAdmin, testControl } from "./support";

// The runbooks' Docker target, run as on-call runs it (a child process, `--target docker` with a
// runbook stack file), against the live test stack: the stores are reached by address over TCP with
// the stack file's credentials — as inside a Docker stack's network — and processes are started and
// stopped through the Docker Engine API, here answered by the test stack itself (support.ts).

const admin = tcpAdmin("runbook_admin");
const ADMIN = admin.account;
const mysqlNames = () => Object.keys(sockets());
const sockets = () => mysqlSockets({ addresses: testAddresses(), layout: testLayout() });
let engine: Awaited<ReturnType<typeof dockerEngineOverStack>>;
let stackFile: string;

const docker = (name: string, ...args: string[]) =>
  runbook(name, "--target", "docker", "--stack-file", stackFile, ...args);

/** The backup service's environment on the test stack (its backups folder). */
const testBackupEnv = () =>
  localBackupEnv({
    topology: testTopology(),
    addresses: testAddresses(),
    layout: testLayout(),
    bindHost: "127.0.0.1",
  } as unknown as StackContext);

/** Write a Docker runbook stack file for the test stack; returns its path. */
async function writeStackFile(backupEnv: Record<string, string>): Promise<string> {
  const file: StackFileInput = {
    target: "docker",
    topology: testTopology(),
    addresses: testAddresses(),
    mysqlAdmin: ADMIN,
    processes: (await testControl().list()).map((p) =>
      mysqlNames().includes(p.name) ? { name: p.name, volume: `${p.name}-data` } : { name: p.name },
    ),
    docker: { socket: engine.socketPath },
    backupEnv,
  };
  const at = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-")), "runbook-stack.json");
  fs.writeFileSync(at, JSON.stringify(file), { mode: 0o600 });
  return at;
}

beforeAll(async () => {
  await admin.create();
  // Each MariaDB server's Docker volume is its data directory on the test stack.
  const dataDir = (name: string) => path.join(testLayout().dir(name), "data");
  engine = await dockerEngineOverStack(Object.fromEntries(mysqlNames().map((name) => [`${name}-data`, dataDir(name)])));
  stackFile = await writeStackFile(testBackupEnv());
});

afterAll(async () => {
  engine?.close();
  await admin.drop();
});

describe("runbooks with --target docker", () => {
  it("status reads every process through the Engine API and every store over TCP", async () => {
    const { code, out } = await docker("status");
    expect(out).toContain("processes of the Docker stack");
    expect(out).toMatch(/ok: process worker-orders-1: running/);
    expect(out).toMatch(/ok: mysql-primary: read_only=0/);
    expect(out).toMatch(/ok: mysql-replica-1: IO Yes, SQL Yes/);
    expect(out).toMatch(/ok: redis cluster/);
    const problems = out.split("\n").filter((l) => /^\s+PROBLEM:/.test(l));
    // Healthy but for what other tests' faults may have left — dead letters, an alert still firing —
    // which status reports, as it should.
    expect(problems.filter((l) => !/PROBLEM: (queue \S+\.dlq|alerts firing):/.test(l))).toEqual([]);
    expect(code).toBe(problems.length === 0 ? 0 : 1);
    expect(engine.calls).toContain("GET /containers/worker-orders-1/json");
  });

  it("mysql-replica restarts a stopped SQL thread over TCP as the stack file's account", async () => {
    const replica = sockets()["mysql-replica-1"];
    await rootSql(replica, "STOP SLAVE SQL_THREAD");
    try {
      const fix = await docker("mysql-replica", "--apply", "--yes");
      expect(fix.out).toMatch(/done\s+START SLAVE on mysql-replica-1/);
      expect(fix.code).toBe(0);
    } finally {
      await rootSql(replica, "START SLAVE"); // idempotent: leaves the stack as found
    }
  });

  it("queue-drain --start-workers starts stopped workers through the Engine API", async () => {
    const control = testControl();
    await control.stop("worker-orders-1");
    await control.stop("worker-orders-2");
    try {
      await eventually(async () => ((await liveQueue("orders")).consumerCount === 0 ? true : undefined), 30_000);
      // The management API's consumer counts lag by its stats interval: wait until it says so too.
      const dry = await eventually(async () => {
        const r = await docker("queue-drain", "--start-workers");
        return /queue orders: .* 0 consumers/.test(r.out) ? r : undefined;
      }, 30_000);
      expect(dry.out).toMatch(/would\s+start worker-orders-1/);

      const fix = await docker("queue-drain", "--start-workers", "--apply", "--yes", "--wait-seconds", "60");
      expect(fix.out).toMatch(/done\s+start worker-orders-1/);
      expect(fix.out).toMatch(/done\s+start worker-orders-2/);
      expect(fix.out).toMatch(/ok: queue orders consumed again/);
      expect(engine.calls).toEqual(
        expect.arrayContaining(["POST /containers/worker-orders-1/start", "POST /containers/worker-orders-2/start"]),
      );
      expect((await liveQueue("orders")).consumerCount).toBeGreaterThan(0);
    } finally {
      for (const name of ["worker-orders-1", "worker-orders-2"]) await control.start(name).catch(() => undefined);
    }
  });

  it("restore --list reads the stack file's backup store", async () => {
    const { out } = await docker("restore", "--list");
    expect(out).toMatch(/MariaDB backups in .*backups/);
  });

  it("refuses a missing or mismatched stack file with exit code 2", async () => {
    const missing = await runbook("status", "--target", "docker", "--stack-file", "/nonexistent/stack.json");
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/\/nonexistent\/stack.json: no such file/);

    const k8s = await runbook("status", "--target", "k8s", "--stack-file", stackFile);
    expect(k8s.code).toBe(2);
    expect(k8s.out).toMatch(/--target k8s: .* describes a docker stack/);
  });
});

describe("drill on the Docker target: the MariaDB primary is killed", () => {
  it("mysql-failover reads the dead primary's binlog and swaps the volumes in one-shot containers; the old primary rejoins", async () => {
    const out = await failoverDrill(docker, "docker_failover_probe");
    expect(out).toMatch(/the last transaction its binary log committed \(volume mysql-primary-data\)/);
    // dockerode repeats the create body in the query string: the container's name is what counts.
    const created = engine.calls.filter((c) => c.startsWith("POST /containers/create?"));
    expect(created.map((c) => new URL(c.split(" ")[1], "http://engine").searchParams.get("name"))).toEqual(
      expect.arrayContaining(["mysql-failover-binlog", "mysql-failover-swap"]),
    );
  });
});

describe("backup-now and restore with --target docker, on the backups bucket (s3rver on 127.0.0.1)", () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "fg-s3rver-"));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fg-backups-work-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: data });
  let bucketFile: string;
  const inBucket = (name: string, ...args: string[]) =>
    runbook(name, "--target", "docker", "--stack-file", bucketFile, ...args);

  beforeAll(async () => {
    const { port } = await server.run();
    const endpoint = `http://127.0.0.1:${port}`;
    const keys = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }; // s3rver's built-in account
    const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: keys });
    await s3.send(new CreateBucketCommand({ Bucket: "fg-runbook-backups" }));
    s3.destroy();
    // As the Docker program's stack file has it: the bucket, not a folder.
    const { BACKUP_DIR: _folder, ...env } = testBackupEnv();
    bucketFile = await writeStackFile({
      ...env,
      S3_ENDPOINT: endpoint,
      S3_BUCKET: "fg-runbook-backups",
      S3_ACCESS_KEY: keys.accessKeyId,
      S3_SECRET_KEY: keys.secretAccessKey,
      BACKUP_WORK_DIR: work,
    });
  });

  afterAll(async () => {
    await server.close();
    for (const d of [work, data]) fs.rmSync(d, { recursive: true, force: true });
  });

  it("backs up into the bucket, lists it with verified checksums, restores it in place and into a new instance from there", async () => {
    const none = await inBucket("restore", "--list");
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/MariaDB backups: none in http:\/\/127.0.0.1:\d+\/fg-runbook-backups/);

    const backup = await inBucket("backup-now", "--kind", "mysql", "--apply", "--yes");
    expect(backup.out).toMatch(/mysql backup into http:\/\/127.0.0.1:\d+\/fg-runbook-backups/);
    expect(backup.code).toBe(0);

    const list = await inBucket("restore", "--list");
    expect(list.out).toMatch(/mysql-\d{8}T\d{9}Z .* yes \(sha256\)/);
    expect(list.code).toBe(0);

    const plan = await inBucket("restore", "latest", "--into", "in-place");
    expect(plan.out).toMatch(/ok: files of mysql-\S+: 1 files match the sha256 in the manifest/);
    expect(plan.out).toMatch(/restoring mysql-\S+ in place loses everything mysql-primary committed after it/);
    expect(plan.out).toMatch(/would\s+replace database/);
    expect(plan.code).toBe(0);

    // Applied: the reload goes over TCP as the stack file's account, the safety backup into the bucket.
    const id = /files of (mysql-\S+):/.exec(plan.out)![1];
    const done = await inBucket("restore", id, "--into", "in-place", "--apply", "--yes");
    if (done.code !== 0) throw new Error(`restore in place exited ${done.code}:\n${done.out}`);
    expect(done.out).toMatch(/ok: safety backup: mysql-\S+ at GTID/);
    expect(done.out).toMatch(new RegExp(`ok: mysql-primary matches ${id}`));
    expect(done.out).toMatch(new RegExp(`ok: mysql-replica-1 matches ${id}`));
    expect(done.out).toMatch(/ok: mysql-primary writable again/);
    const after = await inBucket("restore", "--list");
    expect(after.out).toMatch(/ok: MariaDB backups: 2 listed/);

    // Into a new instance, as in the runbooks container: under its temp folder, left running, stopped.
    const fresh = await inBucket("restore", id, "--into", "new", "--apply", "--yes");
    if (fresh.code !== 0) throw new Error(`restore --into new exited ${fresh.code}:\n${fresh.out}`);
    expect(fresh.out).toMatch(new RegExp(`ok: instance of ${id} matches the manifest`));
    expect(fresh.out).toMatch(
      new RegExp(`stop: +npm run runbook -- restore --stop-instance ${id} --apply --target docker`),
    );
    const instances = path.join(os.tmpdir(), "floodgate-restores");
    expect(fs.readdirSync(instances)).toContain(id);
    const stopped = await inBucket("restore", "--stop-instance", id, "--apply", "--yes");
    expect(stopped.code).toBe(0);
    expect(fs.readdirSync(instances)).not.toContain(id);
    expect(fs.readdirSync(work)).toEqual([]); // every download released
  });
});
