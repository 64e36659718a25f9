import path from "node:path";
import Docker from "dockerode";
import { Cluster, Redis } from "ioredis";
import { PATHS } from "../../infra/targets/kubernetes/context";
import { kubernetesRedisConf } from "../../infra/targets/kubernetes/mounted-files";
import { clusterFormScript, REDIS_HOSTNAME_ENV, redisContainerCommand } from "../../infra/render";
import { ownedBy, removeLabelled, uploadsTar } from "../support/engine-provider";
import { parseTopology, type HostPort } from "../../infra/topology";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { localImage } from "../../scripts/images/components";
import { makeImages } from "../../scripts/images/images";
import { freePort } from "../../services/src/platform/ports";
import { first, zip } from "../support/checked";

// The Kubernetes target's Redis start-up logic on the real engine, from the Debian-built image:
// six nodes (3 masters, 1 replica each) on a network whose names resolve through Docker's DNS, as
// pods' names resolve through their headless Service, form a cluster on names with the forming
// job's script; then every node is stopped and re-created on a NEW address under the same name
// and volume — a full restart of every pod — and the cluster must come back by itself: the same
// node ids, the same shards holding the same slots, every key written before.

const repoRoot = path.resolve(__dirname, "..", "..");
const engine = new Docker();
const OWNER = "redis-names";
const NETWORK = "fg-redis-names-test";
const SUBNET = "172.26.17.0/24";
const t = parseTopology({ redis: { masters: 3, replicasPerMaster: 1, clusterNodeTimeoutMs: 2000 } });
const port = t.redis.basePort;
const names = Array.from({ length: 6 }, (_, i) => `fg-redis-names-${i}`);
const nodes: HostPort[] = names.map((host) => ({ host, port }));
const admin = t.redis.users.admin;
let image: string;
/** Each node's published port on 127.0.0.1 in the current generation, by name. */
const published = new Map<string, number>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Generation 1 takes .11–.16, generation 2 .21–.26: no node keeps its address. */
const ipOf = (generation: number, i: number) => `172.26.17.${generation * 10 + 1 + i}`;

/** (Re-)creates node `name` on `ip` with its volume, publishing its port on a fresh 127.0.0.1 port, and starts it. */
async function startNode(name: string, ip: string): Promise<void> {
  const hostPort = await freePort();
  published.set(name, hostPort);
  const container = await engine.createContainer({
    name,
    Hostname: name,
    Image: image,
    // What the StatefulSet's container runs, with the pod's DNS name in its env.
    Entrypoint: redisContainerCommand(t, { confFile: `${PATHS.redisConf}/redis.conf`, dataDir: PATHS.redisData }),
    Cmd: [],
    Env: [`${REDIS_HOSTNAME_ENV}=${name}`],
    Labels: ownedBy(OWNER),
    ExposedPorts: { [`${port}/tcp`]: {} },
    HostConfig: {
      Binds: [`${name}-data:${PATHS.redisData}`],
      PortBindings: { [`${port}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(hostPort) }] },
    },
    NetworkingConfig: { EndpointsConfig: { [NETWORK]: { IPAMConfig: { IPv4Address: ip } } } },
  });
  await container.putArchive(
    uploadsTar([{ file: `${PATHS.redisConf}/redis.conf`, content: kubernetesRedisConf(t) }]) as never,
    { path: "/" },
  );
  await container.start();
}

/** One node by its published port, as the admin user. */
function direct(name: string): Redis {
  return new Redis({
    host: "127.0.0.1",
    port: published.get(name)!,
    username: "admin",
    password: admin.password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
}

async function ask<T>(name: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = direct(name);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** The cluster as every client sees it: slots announced by name, reached through the published ports. */
function cluster(): Cluster {
  return new Cluster(
    nodes.map((n) => ({ host: "127.0.0.1", port: published.get(n.host)! })),
    {
      natMap: Object.fromEntries(names.map((n) => [`${n}:${port}`, { host: "127.0.0.1", port: published.get(n)! }])),
      redisOptions: { username: "admin", password: admin.password },
    },
  );
}

/** Runs the forming job's script in a one-shot container on the network: its exit code and output. */
async function formJob(): Promise<{ code: number; output: string }> {
  const job = await engine.createContainer({
    Image: image,
    Entrypoint: ["sh", "-c"],
    Cmd: [clusterFormScript(nodes, t.redis.replicasPerMaster, 60)],
    Env: [`REDISCLI_AUTH=${admin.password}`],
    Labels: ownedBy(OWNER),
    HostConfig: { NetworkMode: NETWORK },
  });
  await job.start();
  const { StatusCode } = (await job.wait()) as { StatusCode: number };
  const output = (await job.logs({ stdout: true, stderr: true })).toString("utf8");
  await job.remove({ force: true });
  return { code: StatusCode, output };
}

interface NodeLine {
  id: string;
  address: string;
  /** Absent when the node announces no host name. */
  hostname: string | undefined;
  flags: string[];
  masterId: string;
  linked: boolean;
  slots: string;
}

const parseNodes = (text: string): NodeLine[] =>
  text
    .trim()
    .split("\n")
    .map((line) => {
      const [id, endpoint, flags, masterId, , , , link, ...slots] = line.trim().split(" ");
      if (!id || !endpoint || !flags || !masterId) throw new Error(`not a CLUSTER NODES line: "${line}"`);
      const [address = endpoint, hostname] = endpoint.split(",");
      return {
        id,
        address,
        hostname,
        flags: flags.split(","),
        masterId,
        linked: link === "connected",
        slots: slots.join(" "),
      };
    });

/** The shards: for each slot range, the set of node ids holding it (master and replica, whichever is which). */
function shards(view: NodeLine[]): Record<string, string[]> {
  const masters = view.filter((n) => n.flags.includes("master") && n.slots !== "");
  return Object.fromEntries(
    masters.map((m) => [m.slots, [m.id, ...view.filter((r) => r.masterId === m.id).map((r) => r.id)].sort()]),
  );
}

/** Until every node says cluster_state:ok and sees all six nodes linked, none failing, three of them replicas; then node 0's view. */
async function whole(timeoutMs: number): Promise<NodeLine[]> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const views = await Promise.all(
        names.map((n) =>
          ask(n, async (r) => ({
            info: String(await r.call("CLUSTER", "INFO")),
            nodes: parseNodes(String(await r.call("CLUSTER", "NODES"))),
          })),
        ),
      );
      const ok = views.every(
        (v) =>
          v.info.includes("cluster_state:ok") &&
          v.nodes.length === 6 &&
          v.nodes.every((n) => n.linked && !n.flags.some((f) => /fail|handshake|noaddr/.test(f))) &&
          // Every replica known as one: a node just added shows as an empty master until it gossips.
          v.nodes.filter((n) => n.flags.includes("slave")).length === 3,
      );
      if (ok) return first(views, "node 0's view").nodes;
      last = views.map((v, i) => `${names[i]}: ${/cluster_state:\w+/.exec(v.info)?.[0]}`).join(", ");
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(500);
  }
  throw new Error(`the cluster is not whole after ${timeoutMs} ms: ${last}`);
}

const keys = Array.from({ length: 300 }, (_, i) => `{names-${i % 40}}:key-${i}`);

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  const log = (m: string) => process.stdout.write(`  [images] ${m}\n`);
  await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: "int-test", only: ["redis"], log });
  image = localImage("redis", "int-test");
  await engine.createNetwork({ Name: NETWORK, Labels: ownedBy(OWNER), IPAM: { Config: [{ Subnet: SUBNET }] } });
  for (const n of names) await engine.createVolume({ Name: `${n}-data`, Labels: ownedBy(OWNER) });
}, 600_000);

afterAll(() => removeLabelled(engine, OWNER));

describe("Redis Cluster on names (the Kubernetes start-up logic, real engine)", () => {
  let before: NodeLine[];

  it("forms on names: every node announces its name, each replica follows its own shard's master", async () => {
    await Promise.all(names.map((name, i) => startNode(name, ipOf(1, i))));
    const job = await formJob();
    expect({ code: job.code, output: job.code === 0 ? "" : job.output }).toEqual({ code: 0, output: "" });
    before = await whole(30_000);
    expect(before.map((n) => n.hostname).sort()).toEqual([...names].sort());
    // redisShards: node 3 + s replicates node s.
    const idOf = (name: string) => before.find((n) => n.hostname === name)!.id;
    for (const [master, replica] of zip(names.slice(0, 3), names.slice(3)))
      expect(before.find((n) => n.id === idOf(replica))!.masterId).toBe(idOf(master));
    const c = cluster();
    try {
      for (const k of keys) await c.set(k, `value of ${k}`);
      // Every write on its replica too before the nodes stop (WAIT on each master).
      await Promise.all(c.nodes("master").map((m) => m.call("WAIT", "1", "5000")));
    } finally {
      c.disconnect();
    }
  }, 120_000);

  it("re-forms by itself after all six nodes come back on new addresses: same ids, same shards, no key lost", async () => {
    await Promise.all(names.map((n) => engine.getContainer(n).stop({ t: 10 })));
    await Promise.all(names.map((n) => engine.getContainer(n).remove()));
    // Reverse order too, so no node is first to come back where it was first before.
    await Promise.all([...names.entries()].reverse().map(([i, name]) => startNode(name, ipOf(2, i))));

    const after = await whole(60_000);
    expect(after.map((n) => n.address.split(":")[0]).sort()).toEqual(names.map((_, i) => ipOf(2, i)).sort());
    expect(after.map((n) => `${n.hostname} ${n.id}`).sort()).toEqual(before.map((n) => `${n.hostname} ${n.id}`).sort());
    expect(shards(after)).toEqual(shards(before));
    const c = cluster();
    try {
      const values = await Promise.all(keys.map((k) => c.get(k)));
      expect(values.filter((v, i) => v !== `value of ${keys[i]}`)).toEqual([]);
    } finally {
      c.disconnect();
    }
  }, 120_000);
});
