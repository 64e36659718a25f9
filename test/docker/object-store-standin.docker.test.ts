import path from "node:path";
import Docker from "dockerode";
import { bucketNames } from "../../infra/targets/docker/bucket-scripts";
import { PATHS } from "../../infra/targets/docker/context";
import { buildDeployConfig } from "../support/deploy-config";
import { ownedBy, removeLabelled } from "../support/engine-provider";
import { demuxLogs } from "../../services/src/platform/docker-engine";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { localImage } from "../../scripts/images/components";
import { makeImages } from "../../scripts/images/images";
import { runFixture as runFixtureIn } from "./run-fixture";
import { present } from "../support/checked";

// The Docker target's static bucket on the real engine, with s3rver standing in for SeaweedFS (no
// registry here to pull it from; test/support/engine-provider.ts maps it): the component's own
// containers from the services image — bucket-init creating both buckets over S3, the publisher
// uploading what the API writes, the edge mirror nginx serves — speak only S3 to the stand-in on
// the private network. The program runs in a process of its own (object-store-standin.fixture.ts).
// What it cannot prove: SeaweedFS itself (its identities file, Admin:<bucket>, its health check).

const repoRoot = path.resolve(__dirname, "..", "..");
const engine = new Docker();
/** What the fixture labels its objects with. */
const OWNER = "object-store-standin";
const NETWORK = "fg-standin";
const SERVICES = localImage("services", "int-test");
const SECRET = "standin-secret-key-3c8e1f09";
const buckets = bucketNames(buildDeployConfig("docker").topology.name);

const runFixture = () =>
  runFixtureIn("object-store-standin.fixture.ts", [SERVICES, SECRET, path.join(repoRoot, "node_modules")], 300_000);

/** A one-off container of the services image on the fixture's network, run to its end. */
async function runOnce(name: string, spec: Pick<Docker.ContainerCreateOptions, "Cmd" | "Env" | "User">, volume = "") {
  const [source, target, mode] = volume.split(":");
  if (source && !target) throw new Error(`${name}: the volume "${volume}" names no mount path (source:target[:ro])`);
  const c = await engine.createContainer({
    name,
    Image: SERVICES,
    ...spec,
    Labels: ownedBy(OWNER),
    HostConfig: {
      NetworkMode: NETWORK,
      Mounts: source && target ? [{ Type: "volume", Source: source, Target: target, ReadOnly: mode === "ro" }] : [],
    },
  });
  await c.start();
  const { StatusCode } = (await c.wait()) as { StatusCode: number };
  const output = demuxLogs((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer).all;
  await c.remove();
  return { code: StatusCode, output };
}

/** Write files into the publish volume as the API does: its user, a hidden temporary, then a rename. */
async function publish(files: Record<string, string>) {
  const script = `const fs = require("fs"); for (const [n, b] of Object.entries(${JSON.stringify(files)})) {
    fs.writeFileSync("${PATHS.staticDir}/." + n + ".tmp", b); fs.renameSync("${PATHS.staticDir}/." + n + ".tmp", "${PATHS.staticDir}/" + n); }`;
  const run = await runOnce(
    "fg-standin-api",
    { Cmd: ["node", "-e", script], User: "node" },
    `static-publish:${PATHS.staticDir}`,
  );
  expect(run).toEqual({ code: 0, output: "" });
}

/** What nginx would serve: each file of the edge volume, with whether other users may read it. */
async function edgeFiles(): Promise<Record<string, string>> {
  const script = `const fs = require("fs"); const d = "${PATHS.staticRoot}"; console.log(JSON.stringify(Object.fromEntries(
    fs.readdirSync(d).map((f) => [f, (fs.statSync(d + "/" + f).mode & 0o004 ? "" : "(unreadable) ") + fs.readFileSync(d + "/" + f, "utf8")]))));`;
  const run = await runOnce(
    "fg-standin-nginx",
    { Cmd: ["node", "-e", script], User: "www-data" },
    `static-edge:${PATHS.staticRoot}:ro`,
  );
  return JSON.parse(run.output) as Record<string, string>;
}

async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await read();
    if (JSON.stringify(got) === JSON.stringify(expected) || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const outcomes = (logs: string) =>
  logs
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { bucket?: string; outcome?: string; msg: string })
    .map((l) => `${l.bucket} ${l.outcome}`);

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  // The services image of this working tree (the layer cache makes an unchanged tree quick).
  const log = (m: string) => process.stdout.write(`  [images] ${m}\n`);
  await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: "int-test", only: ["services"], log });
}, 900_000);
afterAll(() => removeLabelled(engine, OWNER));

it("creates the buckets over S3 on the stand-in and mirrors what the API publishes into the edge volume", async () => {
  const run = await runFixture();
  process.stdout.write(
    `${run.stdout
      .split("\n")
      .filter((l) => l.startsWith("  [engine]"))
      .join("\n")}\n`,
  );
  expect({ code: run.code, failures: run.record.failures, stderr: run.stderr }).toEqual({
    code: 0,
    failures: [],
    stderr: "",
  });

  // s3rver served S3 in the object store's place: its name, network and alias, from the services image.
  const store = await engine.getContainer("bucket").inspect();
  expect(store.Config.Labels[`floodgate.engine-test.stand-in`]).toBe("s3rver");
  expect(store.Config.Image).toBe(SERVICES);
  expect(store.NetworkSettings.Networks[NETWORK]?.Aliases).toContain("bucket");
  expect(store.State.Health?.Status).toBe("healthy");

  // bucket-init, from the services image, created both; run again with its own settings, it finds them.
  const init = present(run.record.jobs["bucket-init"], "the bucket-init job's result");
  expect(init.exitCode).toBe(0);
  expect(outcomes(init.logs)).toEqual([`${buckets.static} created`, `${buckets.backups} created`]);
  const job = await engine.getContainer("bucket-init").inspect();
  expect(job.Config.Cmd).toEqual(["node", "dist/services/src/main/bucket-init.js"]);
  const again = await runOnce("fg-standin-init-again", { Cmd: job.Config.Cmd, Env: job.Config.Env });
  expect([again.code, outcomes(again.output)]).toEqual([
    0,
    [`${buckets.static} existed`, `${buckets.backups} existed`],
  ]);

  // The sidecars are healthy (a fresh heartbeat), and what the API writes reaches nginx's folder.
  for (const name of ["static-publisher", "static-edge-sync"])
    expect([name, (await engine.getContainer(name).inspect()).State.Health?.Status]).toEqual([name, "healthy"]);
  await publish({ "catalog.0123456789abcdef.json": "[1]", "manifest.json": '{"version":1}' });
  const first = { "catalog.0123456789abcdef.json": "[1]", "manifest.json": '{"version":1}' };
  expect(await eventually(edgeFiles, first)).toEqual(first);
  await publish({ "manifest.json": '{"version":2}' });
  const second = { ...first, "manifest.json": '{"version":2}' };
  expect(await eventually(edgeFiles, second)).toEqual(second);

  // The secret key reached no process argument and no log line.
  for (const name of ["bucket", "bucket-init", "static-publisher", "static-edge-sync"]) {
    const c = engine.getContainer(name);
    const info = await c.inspect();
    const logs = demuxLogs((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer).all;
    expect([name, JSON.stringify([info.Config.Cmd, info.Config.Entrypoint, info.Args]).includes(SECRET)]).toEqual([
      name,
      false,
    ]);
    expect([name, logs.includes(SECRET)]).toEqual([name, false]);
  }
}, 600_000);
