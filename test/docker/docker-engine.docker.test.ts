import Docker from "dockerode";
import { DockerActuator } from "../../services/src/autoscaler/docker-actuator";
import { DockerEngine } from "../../services/src/platform/docker-engine";
import { ownedBy, removeLabelled } from "../support/engine-provider";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";

// The Engine client the autoscaler's Docker actuator and the runbooks' Docker target share
// (services/src/platform/docker-engine.ts, on dockerode), against the machine's real Docker Engine.

const engine = new Docker();
const OWNER = "docker-engine";
const base = process.env.FLOODGATE_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;
const SLOTS = ["fg-slot-1", "fg-slot-2", "fg-slot-3", "fg-slot-4"];

/** A container that idles and stops at once on SIGTERM (as the API drains, minus the wait). */
async function slot(name: string, start: boolean) {
  const c = await engine.createContainer({
    name,
    Image: base,
    Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"],
    Labels: ownedBy(OWNER),
  });
  if (start) await c.start();
}

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  for (const [i, name] of SLOTS.entries()) await slot(name, i < 2);
});
afterAll(() => removeLabelled(engine, OWNER));

describe("DockerActuator on the real engine", () => {
  it("counts the running prefix of the slots, starts the next ones in order and stops from the top", async () => {
    const actuator = new DockerActuator(SLOTS);
    const running = async () =>
      Promise.all(SLOTS.map(async (n) => (await engine.getContainer(n).inspect()).State.Running));
    expect(await actuator.running()).toBe(2);
    await actuator.scaleTo(4);
    expect(await running()).toEqual([true, true, true, true]);
    expect(await actuator.running()).toBe(4);
    await actuator.scaleTo(3);
    expect(await running()).toEqual([true, true, true, false]);
    await actuator.scaleTo(3); // already there: nothing changes, nothing fails
    expect(await actuator.running()).toBe(3);
    await actuator.scaleTo(2);
    expect(await running()).toEqual([true, true, false, false]);
  }, 60_000);

  it("a slot Docker does not know is an error that names it and the engine", async () => {
    await expect(new DockerActuator(["fg-slot-1", "fg-no-such-slot"]).running()).rejects.toThrow(
      /docker inspect fg-no-such-slot \(engine at \/var\/run\/docker\.sock\): HTTP 404 .*No such container/i,
    );
  });
});

describe("DockerEngine.run on the real engine", () => {
  it("runs a one-shot container to its end with a volume, keeps stdout and stderr apart, removes it", async () => {
    const docker = new DockerEngine();
    const image = await docker.imageOf("fg-slot-1");
    expect(image).toMatch(/^sha256:[0-9a-f]{64}$/);
    await engine.createVolume({ Name: "fg-engine-run-volume", Labels: ownedBy(OWNER) });
    const write = await docker.run({
      name: "fg-engine-run",
      image,
      command: ["sh", "-c", "echo kept > /v/file; echo to-out; echo to-err >&2; exit 7"],
      binds: ["fg-engine-run-volume:/v"],
      env: { GREETING: "hi" },
      user: "0",
    });
    expect(write).toEqual({ exitCode: 7, stdout: "to-out\n", stderr: "to-err\n" });
    const read = await docker.run({
      name: "fg-engine-run",
      image,
      command: ["sh", "-c", 'cat /v/file; echo "$GREETING"'],
      binds: ["fg-engine-run-volume:/v:ro"],
      env: { GREETING: "hi" },
    });
    expect(read).toEqual({ exitCode: 0, stdout: "kept\nhi\n", stderr: "" });
    await expect(engine.getContainer("fg-engine-run").inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);
});
