import path from "node:path";
import Docker from "dockerode";
import { dockerAddresses } from "../../infra/targets/docker/addresses";
import { PATHS } from "../../infra/targets/docker/context";
import { dockerNginxConf } from "../../infra/targets/docker/load-balancer";
import { renderApiUpstream } from "../../infra/render";
import { hostPort, parseTopology, type HostPort } from "../../infra/topology";
import { at, zip } from "../support/checked";
import { ownedBy, removeLabelled } from "../support/engine-provider";
import { DockerActuator } from "../../services/src/autoscaler/docker-actuator";
import { DockerEngine } from "../../services/src/platform/docker-engine";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { localImage } from "../../scripts/images/components";
import { makeImages } from "../../scripts/images/images";

// nginx in front of API slots on the real engine, with the Docker program's own nginx.conf (the
// `api` upstream included from a file) and the autoscaler's Docker actuator keeping that file to
// the running slots. A stopped slot's address times out instead of refusing (2 s each); the
// stand-in slots are nginx too, each answering with its name. Half the slots are stopped
// throughout: with every slot listed (how the program deployed before) requests wait on the stopped
// ones; with the actuator none ever does — proven by nginx's own access log (which upstreams each
// request tried), with the p99 printed.

const repoRoot = path.resolve(__dirname, "..", "..");
const engine = new Docker();
const OWNER = "nginx-upstream";
const SUBNET = "172.29.0.0/16";
const FRONT = "fg-up-nginx";
const PUBLISHED = 18680;
const t = parseTopology({ api: { replicas: 2 }, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 4 } });
const a = dockerAddresses(t, SUBNET);
const slots = a.api.map((_, i) => `fg-up-api-${i + 1}`);
let image: string;

const slotConf = (slot: string, address: HostPort) =>
  `daemon off; pid /tmp/nginx.pid; error_log /dev/stderr warn;
events {}
http { access_log off; server { listen ${address.port}; location / { default_type text/plain; return 200 "${slot}"; } } }
`;

async function container(name: string, ip: string, files: Record<string, string>, ports?: Record<number, number>) {
  const c = await engine.createContainer({
    name,
    Image: image,
    Cmd: ["nginx", "-e", "/dev/stderr", "-c", "/etc/nginx/floodgate/nginx.conf"],
    Labels: ownedBy(OWNER),
    ExposedPorts: Object.fromEntries(Object.keys(ports ?? {}).map((p) => [`${p}/tcp`, {}])),
    HostConfig: {
      PortBindings: Object.fromEntries(
        Object.entries(ports ?? {}).map(([p, host]) => [`${p}/tcp`, [{ HostIp: "127.0.0.1", HostPort: String(host) }]]),
      ),
    },
    NetworkingConfig: { EndpointsConfig: { "fg-upstream-test": { IPAMConfig: { IPv4Address: ip } } } },
  });
  const docker = new DockerEngine();
  for (const [file, content] of Object.entries(files)) await docker.writeFile(name, file, content);
  return c;
}

/** `n` requests through the front nginx, 4 at a time: each one's answer and time. */
async function load(n: number) {
  const out: Array<{ body: string; ms: number }> = [];
  const one = async () => {
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${PUBLISHED}/api/v1/health`);
    out.push({ body: await res.text(), ms: Date.now() - started });
  };
  for (let i = 0; i < n; i += 4) await Promise.all([one(), one(), one(), one()]);
  const sorted = out.map((r) => r.ms).sort((x, y) => x - y);
  return { bodies: new Set(out.map((r) => r.body)), p99: sorted[Math.ceil(sorted.length * 0.99) - 1] };
}

/** The upstreams nginx tried for each request logged since `since` (an entry per attempt, ", "-separated). */
async function upstreamsTried(since: number): Promise<string[][]> {
  const raw = (await engine.getContainer(FRONT).logs({ stdout: true, stderr: false, since })) as unknown as Buffer;
  return raw
    .toString("utf8")
    .split("\n")
    .map((l) => /"upstream_addr":"([^"]*)"/.exec(l)?.[1])
    .filter((u): u is string => u !== undefined && u !== "")
    .map((u) => u.split(/,\s*|\s+:\s+/).map((s) => s.trim()));
}

const readUpstream = async () => {
  const stream = await engine.getContainer(FRONT).getArchive({ path: PATHS.nginxApiUpstream });
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  // One small file in a tar: its content follows the 512-byte header, NUL-padded.
  return Buffer.concat(chunks)
    .subarray(512)
    .toString("utf8")
    .replace(/\0+$/, "")
    .replace(/\0[\s\S]*$/, "");
};

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  const log = (m: string) => process.stdout.write(`  [images] ${m}\n`);
  await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: "int-test", only: ["nginx"], log });
  image = localImage("nginx", "int-test");
  await engine.createNetwork({
    Name: "fg-upstream-test",
    IPAM: { Config: [{ Subnet: SUBNET, IPRange: "172.29.1.0/24" }] },
    Labels: ownedBy(OWNER),
  });
  for (const [i, [name, address]] of zip(slots, a.api).entries()) {
    const c = await container(name, address.host, { "/etc/nginx/floodgate/nginx.conf": slotConf(name, address) });
    if (i < 2) await c.start();
  }
  // The front nginx as the program deployed it before: every slot in its upstream.
  const front = await container(
    FRONT,
    "172.29.0.250",
    {
      [PATHS.nginxConf]: dockerNginxConf(t, a, SUBNET),
      [PATHS.nginxApiUpstream]: renderApiUpstream(a.api),
    },
    { [t.nginx.port]: PUBLISHED },
  );
  await front.start();
  for (let i = 0; i < 50; i++) {
    if (
      await fetch(`http://127.0.0.1:${PUBLISHED}/`).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
}, 1_800_000);
afterAll(() => removeLabelled(engine, OWNER));

it("never sends a request to a stopped slot: the actuator keeps nginx's upstream to the running ones", async () => {
  const stopped = (k: number) => hostPort(at(a.api, k, "the slot's address"));
  const triedStopped = (tried: string[][], ks: number[]) =>
    tried.filter((u) => u.some((x) => ks.map(stopped).includes(x))).length;

  // Every slot listed, two of four stopped: requests wait on the stopped ones (the fault).
  let since = Math.floor(Date.now() / 1000);
  const stale = await load(40);
  const staleTried = await upstreamsTried(since);
  expect(triedStopped(staleTried, [2, 3])).toBeGreaterThan(0);

  // The actuator's first look (a tick) finds nginx with the wrong list and gives it the running slots.
  const actuator = new DockerActuator(slots, {
    container: FRONT,
    file: PATHS.nginxApiUpstream,
    addresses: a.api.map(hostPort),
  });
  expect(await actuator.running()).toBe(2);
  expect(await readUpstream()).toBe(renderApiUpstream(a.api.slice(0, 2)));
  await new Promise((r) => setTimeout(r, 1500)); // nginx's old workers finish
  since = Math.floor(Date.now() / 1000) + 1;
  await new Promise((r) => setTimeout(r, 1100));
  const synced = await load(200);
  expect(synced.bodies).toEqual(new Set([slots[0], slots[1]]));
  expect(triedStopped(await upstreamsTried(since), [2, 3])).toBe(0);

  // Out to three: the third joins once running, and serves.
  await actuator.scaleTo(3);
  expect(await readUpstream()).toBe(renderApiUpstream(a.api.slice(0, 3)));
  await new Promise((r) => setTimeout(r, 1500));
  expect((await load(120)).bodies).toEqual(new Set(slots.slice(0, 3)));

  // Back to two: it leaves the upstream before it stops, so nothing waits on it afterwards.
  await actuator.scaleTo(2);
  expect((await engine.getContainer(at(slots, 2, "the third slot")).inspect()).State.Running).toBe(false);
  expect(await readUpstream()).toBe(renderApiUpstream(a.api.slice(0, 2)));
  since = Math.floor(Date.now() / 1000) + 1;
  await new Promise((r) => setTimeout(r, 1100));
  const after = await load(200);
  expect(after.bodies).toEqual(new Set([slots[0], slots[1]]));
  expect(triedStopped(await upstreamsTried(since), [2, 3])).toBe(0);

  process.stdout.write(
    `  nginx with 2 of 4 slots stopped: p99 ${stale.p99} ms with every slot listed, ` +
      `${synced.p99} ms with the running ones (${after.p99} ms after a scale-in)\n`,
  );
}, 300_000);
