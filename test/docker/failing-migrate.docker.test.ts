import path from "node:path";
import Docker from "dockerode";
import { buildDeployConfig, testSecretValue, testSecretValues } from "../support/deploy-config";
import { ENGINE_TEST_LABEL, removeLabelled } from "../support/engine-provider";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { localImage } from "../../scripts/images/components";
import { makeImages } from "../../scripts/images/images";
import { demuxLogs } from "../../services/src/platform/docker-engine";
import { runFixture, type FixtureRun } from "./run-fixture";
import { first } from "../support/checked";

// The real `migrate` failing on the real Engine: the Docker program's own MariaDB component and API
// cluster (failing-migrate.fixture.ts) run under the engine provider, in a process of their own, on
// a database that already has a `users` table of another application's shape. Migration 001's
// CREATE TABLE fails in MariaDB; the deployment must fail with the migrate job's name, exit code and
// MariaDB's own words, show no secret, and create none of the API slots, workers or tracker.

const engine = new Docker();
/** What the fixture labels its objects with. */
const OWNER = "failing-migrate";
/** The fixture's prefix on container and volume names. */
const PREFIX = "fgm-";
const TAG = "int-test";
const repoRoot = path.resolve(__dirname, "..", "..");
const SECRETS = testSecretValues();
const { mysql } = buildDeployConfig("docker").topology;

const owned = { label: [`${ENGINE_TEST_LABEL}=${OWNER}`] };
const ownedContainers = () => engine.listContainers({ all: true, filters: owned });

/** Run SQL in the primary as root over TCP (the password in the exec's environment): its output. */
async function primarySql(sql: string): Promise<string> {
  const exec = await engine.getContainer(`${PREFIX}mysql-primary`).exec({
    Cmd: ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", String(mysql.primaryPort), "-uroot", "-N", "-e", sql],
    Env: [`MYSQL_PWD=${testSecretValue("mysqlRootPassword")}`],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  return demuxLogs(Buffer.concat(chunks)).all;
}

/** One resource output the fixture saw resolve. */
interface OutputSeen {
  resource: string;
  property: string;
  secret: boolean;
  value: unknown;
}
/** The fixture's record adds every container the program declared and every resource output. */
type MigrateRun = FixtureRun & {
  record: FixtureRun["record"] & { declared?: string[]; resourceOutputs?: OutputSeen[] };
};
let run: MigrateRun;

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  // The two images it runs, current (from the layer cache unless their sources changed).
  const started = Date.now();
  await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: TAG, only: ["mariadb", "services"], log: () => {} });
  process.stdout.write(`  images ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const images = [localImage("mariadb", TAG), localImage("services", TAG)];
  run = (await runFixture("failing-migrate.fixture.ts", images, 150_000)) as MigrateRun;
  process.stdout.write(
    run.stdout
      .split("\n")
      .filter((l) => l.startsWith("  [engine]"))
      .join("\n") + `\n  deployment failed after ${run.seconds.toFixed(1)} s; its error:\n${run.stderr}`,
  );
}, 1_800_000);

afterAll(() => removeLabelled(engine, OWNER));

describe("a failing migrate on the real Engine", () => {
  it("fails the deployment with the migrate job's name, exit code and MariaDB's own error", () => {
    expect(run.code).toBe(1);
    expect(run.record.jobs[`${PREFIX}migrate`]).toEqual({
      exitCode: 1,
      logs: "migrate failed: Table 'users' already exists\n",
    });
    expect(run.stderr).toContain(
      "one-shot job migrate failed (exit code 1); its last 20 log lines:\nmigrate failed: Table 'users' already exists\n",
    );
    // The jobs before it succeeded: the failure is migrate's alone.
    for (const job of ["mysql-bootstrap", "legacy-users"])
      expect(run.record.jobs[`${PREFIX}${job}`]).toMatchObject({ exitCode: 0 });
  });

  it("failed in the migration's own SQL: nothing applied, the existing table untouched", async () => {
    expect(await primarySql(`SELECT COUNT(*) FROM ${mysql.database}.schema_migrations`)).toBe("0\n");
    expect(await primarySql(`SHOW COLUMNS FROM ${mysql.database}.users`)).toMatch(/^id\t.*\nemail\t[^\n]*\n$/);
  });

  it("creates nothing that waits on migrate", async () => {
    const created = run.record.created.filter((o) => o.kind === "container").map((o) => o.name);
    const waiting = ["api-1", "api-2", "worker-orders-1", "worker-red-packet-grabs-1", "tracker"].map(
      (n) => PREFIX + n,
    );
    // The program declared them (so their absence is the failure's doing, not a smaller program)…
    expect(run.record.declared).toEqual(expect.arrayContaining(waiting));
    // …and the Engine has only the stores and the jobs.
    const onEngine = (await ownedContainers()).map((c) => first(c.Names, "a container name").slice(1));
    expect(onEngine.sort()).toEqual(created.sort());
    expect(created.sort()).toEqual(
      ["legacy-users", "migrate", "mysql-bootstrap", "mysql-primary", "mysql-replica-1", "mysql-replica-1-setup"]
        .map((n) => PREFIX + n)
        .sort(),
    );
    // Migrate ran once the database existed and held the other application's table.
    const order = run.record.created.map((o) => o.name);
    expect(order.indexOf(`${PREFIX}migrate`)).toBeGreaterThan(order.indexOf(`${PREFIX}mysql-bootstrap`));
    expect(order.indexOf(`${PREFIX}migrate`)).toBeGreaterThan(order.indexOf(`${PREFIX}legacy-users`));
  });

  it("shows no secret in its output, in any plain resource output or in any container's log", async () => {
    const outputs = run.record.resourceOutputs ?? [];
    const printed = run.stderr + run.stdout.trim().split("\n").slice(0, -1).join("\n");
    for (const secret of SECRETS) expect(printed).not.toContain(secret);
    // Stricter than `pulumi up`: the mocks do not apply additionalSecretOutputs, so the jobs' logs count as plain here.
    const plain = outputs.filter((o) => !o.secret).map((o) => `${o.resource}.${o.property} ${JSON.stringify(o.value)}`);
    expect(plain.filter((line) => SECRETS.some((s) => line.includes(s)))).toEqual([]);
    // The search can find them: migrate's environment holds the MariaDB passwords, kept secret.
    const env = outputs.find((o) => o.resource === "api-migrate" && o.property === "envs");
    expect(env).toMatchObject({ secret: true });
    expect(JSON.stringify(env?.value)).toContain(testSecretValue("mysqlMigratorPassword"));
    expect(plain).toContain(`api-migrate.exitCode 1`);

    const containers = await ownedContainers();
    expect(containers).toHaveLength(6);
    for (const c of containers) {
      const raw = (await engine.getContainer(c.Id).logs({ stdout: true, stderr: true })) as unknown as Buffer;
      const logs = demuxLogs(raw).all;
      expect({ container: c.Names[0], secrets: SECRETS.filter((s) => logs.includes(s)) }).toEqual({
        container: c.Names[0],
        secrets: [],
      });
    }
  });

  it("leaves nothing behind", async () => {
    // Six containers, four volumes (both servers' data, the credentials, the static files), the network.
    expect(await removeLabelled(engine, OWNER)).toBe(11);
    expect(await ownedContainers()).toEqual([]);
    expect((await engine.listVolumes({ filters: owned })).Volumes ?? []).toEqual([]);
    expect(await engine.listNetworks({ filters: owned })).toEqual([]);
  });
});
