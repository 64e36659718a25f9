import Docker from "dockerode";
import { ENGINE_TEST_LABEL, removeLabelled } from "../support/engine-provider";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { runFixture as runFixtureIn } from "./run-fixture";

// The engine provider itself, on the machine's real Docker Engine with the base image: what it
// creates follows the program's dependency order, a one-shot job's real exit code fails the
// deployment with its log lines (the program's own check, infra/targets/docker/one-shot.ts), nothing that
// waits on a failed job is created, and ports are published on 127.0.0.1 only. The program runs in
// a process of its own (small-program.fixture.ts), as `pulumi up` runs one.

const engine = new Docker();
/** What the fixture labels its objects with. */
const OWNER = "small-program";
const base = process.env.FLOODGATE_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;
const SECRET = "engine-test-secret-4b9d1f";

const runFixture = () => runFixtureIn("small-program.fixture.ts", [base, SECRET], 90_000);

beforeAll(() => removeLabelled(engine, OWNER));
afterAll(() => removeLabelled(engine, OWNER));

it("creates in dependency order, fails on a job's exit code with its log lines, creates nothing after it", async () => {
  const run = await runFixture();
  process.stdout.write(
    run.stdout
      .split("\n")
      .filter((l) => l.startsWith("  [engine]"))
      .join("\n") + "\n",
  );

  expect(run.code).toBe(1);
  expect(run.stderr).toContain("one-shot job fg-engine-bad failed (exit code 3)");
  expect(run.stderr).toContain("line 30\nusing [secret]");
  expect(run.stderr).toContain("line 12\n");
  expect(run.stderr).not.toContain("line 11\n"); // only the last 20 lines
  // What the deployment printed (not the record: this job echoes the secret on purpose, to be redacted).
  expect(run.stderr + run.stdout.trim().split("\n").slice(0, -1).join("\n")).not.toContain(SECRET);
  expect(run.record.jobs["fg-engine-bad"]).toMatchObject({
    exitCode: 3,
    logs: expect.stringContaining(`using ${SECRET}`),
  });
  expect(run.record.jobs["fg-engine-ok"]).toEqual({ exitCode: 0, logs: expect.stringMatching(/\sserver\n/) });

  // The order the Engine saw: the stores, the server (healthy first), then the jobs; nothing after the failed one.
  const order = run.record.created.map((c) => c.name);
  expect(order.indexOf("fg-engine-server")).toBeGreaterThan(order.indexOf("fg-engine-test"));
  expect(order.indexOf("fg-engine-server")).toBeGreaterThan(order.indexOf("fg-engine-test-data"));
  expect(order.indexOf("fg-engine-ok")).toBeGreaterThan(order.indexOf("fg-engine-server"));
  expect(order.indexOf("fg-engine-bad")).toBeGreaterThan(order.indexOf("fg-engine-ok"));
  expect(order).not.toContain("fg-engine-after");
  const labelled = await engine.listContainers({ all: true, filters: { label: [`${ENGINE_TEST_LABEL}=${OWNER}`] } });
  expect(labelled.map((c) => c.Names[0]).sort()).toEqual(["/fg-engine-bad", "/fg-engine-ok", "/fg-engine-server"]);

  // What the program asked for is what runs.
  const info = await engine.getContainer("fg-engine-server").inspect();
  expect(info.State.Health?.Status).toBe("healthy");
  expect(info.Config.User).toBe("nobody");
  expect(info.HostConfig.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "18977" }] });
  expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
  expect(info.Mounts.map((m) => [m.Name, m.Destination])).toEqual([["fg-engine-test-data", "/data"]]);

  expect(await removeLabelled(engine, OWNER)).toBe(5); // three containers, the volume and the network
  expect(await engine.listContainers({ all: true, filters: { label: [`${ENGINE_TEST_LABEL}=${OWNER}`] } })).toEqual([]);
}, 120_000);
