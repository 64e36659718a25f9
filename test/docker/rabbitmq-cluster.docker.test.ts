import path from "node:path";
import amqp from "amqplib";
import Docker from "dockerode";
import { dockerAddresses, RABBITMQ_CLUSTER_ALIAS } from "../../infra/targets/docker/addresses";
import { PATHS } from "../../infra/targets/docker/context";
import {
  definitionsQueueNames,
  dockerRabbitmqConf,
  dockerRabbitmqNodes,
  rabbitmqUsersScript,
} from "../../infra/targets/docker/rabbitmq";
import {
  QUORUM_INITIAL_GROUP_SIZE,
  renderEnabledPlugins,
  renderRabbitmqDefinitions,
  renderRabbitmqUsers,
} from "../../infra/render";
import { ownedBy, removeLabelled, uploadsTar } from "../support/engine-provider";
import { parseTopology, rabbitmqName } from "../../infra/topology";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { localImage } from "../../scripts/images/components";
import { makeImages } from "../../scripts/images/images";
import { freePort } from "../../services/src/platform/ports";
import { createBroker, eventually, execIn, quorumMembers, runningNodes, runUsersJob as runJob } from "./broker-cli";
import { at, first } from "../support/checked";

// The Docker target's 3-node RabbitMQ on the real engine, from the Debian-built image: three
// containers booted together from the program's files (classic_config peers, the cluster size
// hint, quorum queues in the definitions) form one cluster; the users job imports the users and
// grows the queues; messages confirmed to a quorum queue survive a `docker kill` of its leader.

const repoRoot = path.resolve(__dirname, "..", "..");
const engine = new Docker();
const OWNER = "rabbitmq-cluster";
const NETWORK = "fg-rabbitmq-cluster-test";
const COOKIE = "RABBITMQ-CLUSTER-TEST-COOKIE-8c2a";
const MESSAGES = 500;

const t = parseTopology({ rabbitmq: { nodes: 3 } });
const a = dockerAddresses(t);
const nodes = dockerRabbitmqNodes(t);
const hosts = nodes.map((_, i) => rabbitmqName(i));
const queue = first(t.rabbitmq.queues, "a queue in the topology").name;
const containerName = (host: string) => `fg-cluster-${host}`;
/** Each node's AMQP port, published on 127.0.0.1 only. */
const published = new Map<string, number>();
let image: string;

const url = (host: string) => {
  const { name, password } = t.rabbitmq.users.app;
  return `amqp://${name}:${encodeURIComponent(password)}@127.0.0.1:${published.get(host)}/${encodeURIComponent(t.rabbitmq.vhost)}`;
};

const cli = (host: string, cmd: string[]) => execIn(engine, containerName(host), cmd);
const members = (host: string) => quorumMembers(engine, containerName(host), queue, t.rabbitmq.vhost);

/** The users job as the program runs it: imports into any node, grows the queues onto the first three. */
async function runUsersJob(): Promise<{ code: number; output: string }> {
  const script = rabbitmqUsersScript(nodes, 120, {
    vhost: t.rabbitmq.vhost,
    queues: definitionsQueueNames(t),
    members: nodes.slice(0, QUORUM_INITIAL_GROUP_SIZE),
  });
  return runJob(engine, {
    image,
    script,
    env: [`RABBITMQ_ERLANG_COOKIE=${COOKIE}`, `ERL_EPMD_PORT=${t.rabbitmq.epmdPort}`],
    labels: ownedBy(OWNER),
    network: NETWORK,
    users: renderRabbitmqUsers(t),
  });
}

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  const log = (m: string) => process.stdout.write(`  [images] ${m}\n`);
  await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: "int-test", only: ["rabbitmq"], log });
  image = localImage("rabbitmq", "int-test");
  await engine.createNetwork({ Name: NETWORK, Labels: ownedBy(OWNER) });
  // The program's own files, the same on every node (a tar stream is read once: one per node).
  const files = () =>
    uploadsTar([
      { file: PATHS.rabbitmqConf, content: dockerRabbitmqConf(t, a) },
      { file: PATHS.rabbitmqPlugins, content: renderEnabledPlugins() },
      { file: PATHS.rabbitmqDefinitions, content: renderRabbitmqDefinitions(t, { users: false }) },
    ]);
  const containers = [];
  for (const host of hosts) {
    published.set(host, await freePort());
    const volume = await engine.createVolume({ Name: `fg-cluster-${host}-data`, Labels: ownedBy(OWNER) });
    const container = await createBroker(engine, {
      name: containerName(host),
      host,
      image,
      cookie: COOKIE,
      ports: { amqp: a.rabbitmq.port, dist: t.rabbitmq.distPort, epmd: t.rabbitmq.epmdPort },
      published: published.get(host)!,
      network: NETWORK,
      labels: ownedBy(OWNER),
      binds: [`${volume.name}:${PATHS.rabbitmqData}`],
      // As the program attaches them: each under its own name and the name clients use.
      aliases: [host, RABBITMQ_CLUSTER_ALIAS],
    });
    await container.putArchive(files() as never, { path: "/" });
    containers.push(container);
  }
  // Together, as Pulumi creates them: no node waits for another to start.
  await Promise.all(containers.map((c) => c.start()));
}, 600_000);

afterAll(() => removeLabelled(engine, OWNER));

describe("a 3-node RabbitMQ cluster from the Docker target's files on the real engine", () => {
  const bodies = Array.from({ length: MESSAGES }, (_, i) => `order-${i}`);
  let leader: string;

  it("forms one cluster of all three nodes, each seeing the others running", async () => {
    for (const host of hosts) {
      const seen = await eventually(`three running nodes seen from ${host}`, 120, async () => {
        const running = await runningNodes(engine, containerName(host));
        return running.length === 3 ? running : undefined;
      });
      expect(seen).toEqual([...nodes].sort());
    }
  }, 400_000);

  it("imports the users into the cluster and gives the quorum queue a member on each node", async () => {
    const run = await runUsersJob();
    expect(run.output).toMatch(/users and permissions imported into rabbit@rabbitmq/);
    expect(run.code).toBe(0);
    const states = await members(at(hosts, 1, "the second node"));
    expect(Object.keys(states).sort()).toEqual([...nodes].sort());
    leader = Object.entries(states).find(([, state]) => state === "leader")?.[0] ?? "";
    expect(nodes).toContain(leader);
  }, 180_000);

  it("keeps every confirmed persistent message when the queue's leader is killed", async () => {
    const leaderHost = leader.replace(/^rabbit@/, "");
    const survivor = hosts.find((h) => h !== leaderHost)!;
    // Published through the leader itself, the node that is then lost.
    const publisher = await amqp.connect(url(leaderHost));
    const channel = await publisher.createConfirmChannel();
    for (const body of bodies) channel.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await channel.waitForConfirms();
    publisher.on("error", () => undefined);

    await engine.getContainer(containerName(leaderHost)).kill();

    const consumer = await eventually("a survivor that serves the queue", 60, async () => {
      const c = await amqp.connect(url(survivor));
      c.on("error", () => undefined);
      const ch = await c.createChannel();
      const { messageCount } = await ch.checkQueue(queue);
      if (messageCount === MESSAGES) return { c, ch };
      await c.close();
      return undefined;
    });
    const received: string[] = [];
    for (let m = await consumer.ch.get(queue); m; m = await consumer.ch.get(queue)) {
      received.push(m.content.toString());
      consumer.ch.ack(m);
    }
    await consumer.c.close();
    expect(received.sort()).toEqual([...bodies].sort());
    const states = await members(survivor);
    expect(states[leader]).not.toBe("leader");
    expect(Object.values(states)).toContain("leader");
    // The name the services connect to now answers with the two survivors only.
    const ips = async (name: string) =>
      new Set((await cli(survivor, ["getent", "ahostsv4", name])).split("\n").flatMap((l) => l.split(/\s+/)[0] || []));
    const answers = await ips(RABBITMQ_CLUSTER_ALIAS);
    const survivors = hosts.filter((h) => h !== leaderHost);
    const expected = new Set<string>();
    for (const h of survivors) for (const ip of await ips(h)) expected.add(ip);
    expect([...answers].sort()).toEqual([...expected].sort());
    expect(answers.size).toBe(2);
  }, 120_000);
});
