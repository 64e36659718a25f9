import { execFile } from "node:child_process";
import path from "node:path";
import { buildDeployConfig, testSecretValue } from "../../../test/support/deploy-config";
import { ofType, recordResources, settle, settleRegistrations } from "../../../test/support/pulumi-mocks";
import { FAILURE_LOG_LINES, jobFailure, REDACTED, redactSecrets } from "./one-shot";
import type * as dockerTarget from "./index";

const CONTAINER = "docker:index/container:Container";
const JOBS = [
  "mysql-bootstrap",
  "mysql-replica-1-setup",
  "redis-auth",
  "redis-cluster-form",
  "rabbitmq-users",
  "bucket-init",
  "migrate",
  "redis-auth-finish",
];

describe("a one-shot job's outcome", () => {
  it.each([
    [0, undefined],
    [1, "one-shot job migrate failed (exit code 1)"],
    [137, "one-shot job migrate failed (exit code 137)"],
    [undefined, "one-shot job migrate failed (no exit code)"],
  ])("judges exit code %p: %p", (code, message) => {
    const failure = jobFailure("migrate", code, "boom\n", []);
    if (message === undefined) expect(failure).toBeUndefined();
    else expect(failure).toContain(message);
  });

  it(`shows only the last ${FAILURE_LOG_LINES} log lines`, () => {
    const logs = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join("\r\n") + "\n";
    const failure = jobFailure("migrate", 2, logs, [])!;
    expect(failure).toContain(`line 50`);
    expect(failure).toContain(`line ${50 - FAILURE_LOG_LINES + 1}\n`);
    expect(failure).not.toContain(`line ${50 - FAILURE_LOG_LINES}\n`);
    expect(failure).not.toContain("\r");
  });

  it("redacts every secret, the longer first, so no part of one survives", () => {
    expect(redactSecrets("pw=abcdef and abc", ["abc", "abcdef"])).toBe(`pw=${REDACTED} and ${REDACTED}`);
    expect(jobFailure("bucket-init", 1, "key s3cr3t-value rejected", ["s3cr3t-value"])).toContain(
      `key ${REDACTED} rejected`,
    );
  });
});

/** The program run as its own process under the mocks, with `job` failing; see failing-job.fixture.ts. */
async function runFailing(job: string, exitCode: number, logs: string) {
  const fixture = path.join(__dirname, "failing-job.fixture.ts");
  const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", fixture, job, String(exitCode), logs],
      { timeout: 100_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }),
    );
  });
  const last = child.stdout.trim().split("\n").at(-1) ?? "{}";
  return { ...child, containers: (JSON.parse(last) as { containers?: string[] }).containers ?? [] };
}

describe("the Docker program when a one-shot job fails (as `pulumi up` runs it)", () => {
  const secret = testSecretValue("mysqlMigratorPassword");
  const migrateLogs = [
    ...Array.from({ length: 25 }, (_, i) => `migration 0${i}: applied`),
    `Error: Access denied for user 'migrator' (password ${secret})`,
  ];
  const beforeMigrate = JOBS.filter((j) => j !== "migrate" && j !== "redis-auth-finish");
  const cases: Array<[string, number, string]> = [
    ["migrate", 1, migrateLogs.join("\n") + "\n"],
    ...JOBS.filter((j) => j !== "migrate").map((j): [string, number, string] => [j, 3, "the last words\n"]),
  ];
  const runs = new Map<string, ReturnType<typeof runFailing>>();
  beforeAll(() => {
    // Each run is a whole program in a process of its own, CPU-bound: two at a time, one per core.
    const started: Array<ReturnType<typeof runFailing>> = [];
    cases.forEach(([job, code, logs], i) => {
      started[i] = (started[i - 2] ?? Promise.resolve()).then(() => runFailing(job, code, logs));
      runs.set(job, started[i]);
    });
  });

  it("fails with migrate's exit code and last log lines, secrets redacted, and starts no service", async () => {
    const run = await runs.get("migrate")!;
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("one-shot job migrate failed (exit code 1)");
    expect(run.stderr).toContain("migration 024: applied");
    expect(run.stderr).not.toContain("migration 05: applied");
    expect(run.stderr).toContain(`Access denied for user 'migrator' (password ${REDACTED})`);
    expect(run.stderr + run.stdout).not.toContain(secret);
    // The stores and the jobs before it ran; nothing that waits for the migration was created.
    expect(run.containers).toEqual(expect.arrayContaining(["mysql-primary", "mysql-bootstrap", "migrate"]));
    expect(run.containers.filter((n) => /^(api-\d+|worker-.*|tracker|nginx|autoscaler)$/.test(n))).toEqual([]);
  });

  it("fails when redis-auth-finish exits non-zero, which runs after every Redis client", async () => {
    const run = await runs.get("redis-auth-finish")!;
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`one-shot job redis-auth-finish failed (exit code 3)`);
    expect(run.containers).toEqual(expect.arrayContaining(["migrate", "api-1", "backups", "runbooks", "autoscaler"]));
  });

  it.each(beforeMigrate)("fails when %s exits non-zero, before migrate runs", async (job) => {
    const run = await runs.get(job)!;
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      `one-shot job ${job} failed (exit code 3); its last ${FAILURE_LOG_LINES} log lines:\nthe last words`,
    );
    expect(run.containers).toContain(job);
    expect(run.containers).not.toContain("migrate");
    expect(run.containers).not.toContain("nginx");
  });
});

describe("the Docker program when every job succeeds (mocks)", () => {
  let apiUrl: string;
  let names: string[];

  beforeAll(async () => {
    await recordResources("docker");
    const { deployDocker } = require("./index") as typeof dockerTarget;
    apiUrl = await settle(deployDocker(buildDeployConfig("docker")).apiUrl, 60_000);
    names = (await settleRegistrations()).filter((r) => r.type === CONTAINER).map((r) => String(r.inputs.name));
  });

  it("exports the URLs once every job exited 0 and nginx exists", () => {
    expect(apiUrl).toMatch(/\/api\/v1\/$/);
    expect(names).toEqual(expect.arrayContaining(["api-1", "nginx", ...JOBS]));
  });

  it("keeps every job's logs a secret output, so they sit encrypted in the state", () => {
    const jobs = ofType(CONTAINER).filter((r) => r.inputs.attach === true);
    expect(new Set(jobs.map((r) => String(r.inputs.name)))).toEqual(new Set(JOBS));
    for (const j of jobs) expect([j.name, j.additionalSecretOutputs]).toEqual([j.name, ["containerLogs"]]);
  });
});
