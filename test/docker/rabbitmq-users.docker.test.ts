import path from "node:path";
import amqp from "amqplib";
import Docker from "dockerode";
import { dockerAddresses } from "../../infra/targets/docker/addresses";
import { PATHS } from "../../infra/targets/docker/context";
import { dockerRabbitmqConf, rabbitmqUsersScript } from "../../infra/targets/docker/rabbitmq";
import { renderEnabledPlugins, renderRabbitmqDefinitions, renderRabbitmqUsers } from "../../infra/render";
import { ownedBy, removeLabelled, uploadsTar } from "../support/engine-provider";
import { parseTopology, type Topology } from "../../infra/topology";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { localImage } from "../../scripts/images/components";
import { makeImages } from "../../scripts/images/images";
import { createBroker, runUsersJob } from "./broker-cli";
import { first } from "../support/checked";

// The Docker target's RabbitMQ users job on the real engine, from the Debian-built image: the
// broker boots from definitions without users (the program's files), the job imports the users
// over Erlang distribution, and a rotation re-imports them while an AMQP connection stays open —
// the old password refused from then on, the new one kept across a restart of the broker.

const repoRoot = path.resolve(__dirname, "..", "..");
const engine = new Docker();
const OWNER = "rabbitmq-users";
const NETWORK = "fg-rabbitmq-users-test";
const BROKER = "fg-rabbitmq";
const PUBLISHED = 18690;
const COOKIE = "RABBITMQ-USERS-TEST-COOKIE-5d1e";
let image: string;

const base = parseTopology({});
const a = dockerAddresses(base, "172.28.0.0/16");
/** The topology with RabbitMQ passwords of one generation, with characters a URL must escape. */
function generation(g: string): Topology {
  const t = structuredClone(base);
  t.rabbitmq.users.app.password = `app-${g}-p@ss/word`;
  t.rabbitmq.users.admin.password = `admin-${g}-p@ss/word`;
  return t;
}
const OLD = generation("old");
const NEW = generation("new");

const url = (t: Topology, user: "app" | "admin") =>
  `amqp://${t.rabbitmq.users[user].name}:${encodeURIComponent(t.rabbitmq.users[user].password)}@127.0.0.1:${PUBLISHED}/${encodeURIComponent(t.rabbitmq.vhost)}`;

async function accepted(t: Topology, user: "app" | "admin"): Promise<boolean> {
  try {
    const c = await amqp.connect(url(t, user));
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/** Runs the users job once for `t` (with the broker's cookie unless told otherwise): its exit code and output. */
async function runJob(
  t: Topology,
  opts: { cookie?: string; waitSeconds?: number } = {},
): Promise<{ code: number; output: string }> {
  return runUsersJob(engine, {
    image,
    script: rabbitmqUsersScript([`rabbit@${BROKER}`], opts.waitSeconds ?? 90),
    env: [`RABBITMQ_ERLANG_COOKIE=${opts.cookie ?? COOKIE}`, `ERL_EPMD_PORT=${t.rabbitmq.epmdPort}`],
    labels: ownedBy(OWNER),
    network: NETWORK,
    users: renderRabbitmqUsers(t),
  });
}

async function brokerAnswers(t: Topology): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      const c = await amqp.connect(url(t, "app"));
      await c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  throw new Error("the broker did not accept the app user within 120 s");
}

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  const log = (m: string) => process.stdout.write(`  [images] ${m}\n`);
  await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: "int-test", only: ["rabbitmq"], log });
  image = localImage("rabbitmq", "int-test");
  await engine.createNetwork({ Name: NETWORK, Labels: ownedBy(OWNER) });
  const broker = await createBroker(engine, {
    name: BROKER,
    host: BROKER,
    image,
    cookie: COOKIE,
    ports: { amqp: a.rabbitmq.port, dist: base.rabbitmq.distPort, epmd: base.rabbitmq.epmdPort },
    published: PUBLISHED,
    network: NETWORK,
    labels: ownedBy(OWNER),
  });
  // The program's own files: no user in the definitions.
  const files = [
    { file: PATHS.rabbitmqConf, content: dockerRabbitmqConf(base, a) },
    { file: PATHS.rabbitmqPlugins, content: renderEnabledPlugins() },
    { file: PATHS.rabbitmqDefinitions, content: renderRabbitmqDefinitions(base, { users: false }) },
  ];
  await broker.putArchive(uploadsTar(files) as never, { path: "/" });
  await broker.start();
}, 600_000);

afterAll(() => removeLabelled(engine, OWNER));

describe("the RabbitMQ users job on the real engine", () => {
  let held: amqp.ChannelModel;
  let channel: amqp.ConfirmChannel;
  const queue = first(base.rabbitmq.queues, "a queue in the topology").name;

  it("imports the users into a broker that booted with none", async () => {
    let run = { code: -1, output: "" };
    for (let i = 0; i < 3 && run.code !== 0; i++) run = await runJob(OLD);
    expect(run.output).toContain(`users and permissions imported into rabbit@${BROKER}`);
    expect(run.code).toBe(0);
    await brokerAnswers(OLD);
    expect(await accepted(OLD, "admin")).toBe(true);
    held = await amqp.connect(url(OLD, "app"));
    channel = await held.createConfirmChannel();
    channel.sendToQueue(queue, Buffer.from("before"), { persistent: true });
    await channel.waitForConfirms();
  }, 240_000);

  it("rotates both passwords in place: the open connection keeps publishing, the old password is refused", async () => {
    let closed = false;
    held.on("close", () => (closed = true));
    const run = await runJob(NEW);
    expect(run.output).toContain(`users and permissions imported into rabbit@${BROKER}`);
    expect(run.code).toBe(0);
    channel.sendToQueue(queue, Buffer.from("during"), { persistent: true });
    await channel.waitForConfirms();
    expect(closed).toBe(false);
    expect([await accepted(NEW, "app"), await accepted(NEW, "admin")]).toEqual([true, true]);
    expect([await accepted(OLD, "app"), await accepted(OLD, "admin")]).toEqual([false, false]);
    await held.close();
  }, 120_000);

  it("keeps the rotated passwords across a restart (the boot definitions hold no user to undo them)", async () => {
    await engine.getContainer(BROKER).restart();
    await brokerAnswers(NEW);
    expect(await accepted(OLD, "app")).toBe(false);
  }, 180_000);

  it("fails with the broker's reason when the cookie is wrong, printing no password", async () => {
    const run = await runJob(NEW, { cookie: "NOT-THE-COOKIE", waitSeconds: 6 });
    expect(run.code).toBe(1);
    expect(run.output).toContain(`importing the users into rabbit@${BROKER} failed for 6 s`);
    expect(run.output).not.toContain(NEW.rabbitmq.users.app.password);
  }, 60_000);
});
