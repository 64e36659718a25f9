import { execFileSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { kubernetesAddresses } from "../../infra/targets/kubernetes/addresses";
import { PATHS } from "../../infra/targets/kubernetes/context";
import {
  kubernetesRabbitmqConf,
  RABBITMQ_DEFINITIONS_FILE,
  rabbitmqPodSuffix,
} from "../../infra/targets/kubernetes/mounted-files";
import { renderEnabledPlugins, renderRabbitmqDefinitions } from "../../infra/render";
import { ownedBy, removeLabelled, uploadsTar } from "../support/engine-provider";
import { parseTopology } from "../../infra/topology";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { localImage } from "../../scripts/images/components";
import { makeImages } from "../../scripts/images/images";
import { eventually, quorumMembers, runningNodes } from "./broker-cli";
import { first, present, zip } from "../support/checked";

// The Kubernetes target's RabbitMQ files booted in three containers of the Debian-built image, with
// what a pod has around it played by this test: each container named and resolvable as its pod
// (rabbitmq-N.rabbitmq-nodes.<ns>.svc.cluster.local), the service-account token, CA and namespace
// files mounted where Kubernetes mounts them, and kubernetes.default.svc:443 answered by a small
// HTTPS server here that lists the headless Service's endpoints as the API does. The nodes must
// find each other through it alone (rabbitmq_peer_discovery_k8s, address_type hostname) and form
// one cluster whose quorum queues have a member on each node.

const repoRoot = path.resolve(__dirname, "..", "..");
const engine = new Docker();
const OWNER = "rabbitmq-k8s-discovery";
const NETWORK = "fg-rabbitmq-k8s-test";
const NAMESPACE = "fg";
const TOKEN = "k8s-discovery-test-token-3f9e";
const COOKIE = "RABBITMQ-K8S-TEST-COOKIE-71b4";
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

const t = parseTopology({ rabbitmq: { nodes: 3 } });
const a = kubernetesAddresses(t, { namespace: NAMESPACE });
const suffix = rabbitmqPodSuffix(a);
const pods = ["rabbitmq-0", "rabbitmq-1", "rabbitmq-2"] as const;
const nodes = pods.map((p) => `rabbit@${p}${suffix}`);
const container = (pod: string) => `fg-k8s-${pod}`;
/** What the fake API was asked: method, path and bearer token. */
const requests: Array<{ method: string; path: string; token: string }> = [];
let api: https.Server;

/** The Endpoints object of the headless Service as the API serves it: pods by host name, ready or not. */
function endpoints(ips: Record<string, string>) {
  const addresses = pods.map((p) => ({ ip: ips[p], hostname: p, targetRef: { kind: "Pod", name: p } }));
  return {
    kind: "Endpoints",
    apiVersion: "v1",
    metadata: { name: "rabbitmq-nodes" },
    subsets: [{ notReadyAddresses: addresses }],
  };
}

/** A self-signed certificate for kubernetes.default.svc: the CA the pods are given. */
function certificate(): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fg-k8s-ca-"));
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=kubernetes.default.svc"],
      ...["-addext", "subjectAltName=DNS:kubernetes.default.svc,DNS:kubernetes.default"],
      ...["-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")],
    ],
    { stdio: "ignore" },
  );
  const pair = {
    key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"),
    cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"),
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return pair;
}

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  const log = (m: string) => process.stdout.write(`  [images] ${m}\n`);
  await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: "int-test", only: ["rabbitmq"], log });
  const image = localImage("rabbitmq", "int-test");
  const network = await engine.createNetwork({ Name: NETWORK, Labels: ownedBy(OWNER) });
  const ipam = ((await network.inspect()) as { IPAM: { Config: Array<{ Gateway: string }> } }).IPAM;
  const gateway = first(ipam.Config, "the test network's IPAM config").Gateway;
  const ips: Record<string, string> = {};
  const { key, cert } = certificate();
  // On the test network's gateway only: reachable from its containers, not published anywhere.
  api = https.createServer({ key, cert }, (req, res) => {
    requests.push({ method: req.method ?? "", path: req.url ?? "", token: req.headers.authorization ?? "" });
    res.setHeader("content-type", "application/json");
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end("{}");
    if (req.method === "GET" && req.url === `/api/v1/namespaces/${NAMESPACE}/endpoints/rabbitmq-nodes`) {
      return void res.end(JSON.stringify(endpoints(ips)));
    }
    if (req.method === "POST" && req.url === `/api/v1/namespaces/${NAMESPACE}/events`)
      return void res.writeHead(201).end("{}");
    res.writeHead(404).end("{}");
  });
  await new Promise<void>((resolve) => api.listen(443, gateway, resolve));
  const files = () =>
    uploadsTar([
      { file: PATHS.rabbitmqConf, content: kubernetesRabbitmqConf(t, a) },
      { file: PATHS.rabbitmqPlugins, content: renderEnabledPlugins({ k8sPeerDiscovery: true }) },
      { file: RABBITMQ_DEFINITIONS_FILE, content: renderRabbitmqDefinitions(t) },
      { file: `${SA_DIR}/token`, content: TOKEN },
      { file: `${SA_DIR}/ca.crt`, content: cert },
      { file: `${SA_DIR}/namespace`, content: NAMESPACE },
    ]);
  const started = [];
  for (const pod of pods) {
    const c = await engine.createContainer({
      name: container(pod),
      Hostname: pod,
      Image: image,
      // As the StatefulSet sets them (infra/targets/kubernetes/rabbitmq.ts), $(MY_POD_NAME) expanded.
      Env: [
        `MY_POD_NAME=${pod}`,
        "RABBITMQ_USE_LONGNAME=true",
        `RABBITMQ_NODENAME=rabbit@${pod}${suffix}`,
        `RABBITMQ_ERLANG_COOKIE=${COOKIE}`,
        `RABBITMQ_DIST_PORT=${t.rabbitmq.distPort}`,
        `ERL_EPMD_PORT=${t.rabbitmq.epmdPort}`,
      ],
      Labels: ownedBy(OWNER),
      HostConfig: { NetworkMode: NETWORK, ExtraHosts: [`kubernetes.default.svc:${gateway}`] },
      NetworkingConfig: { EndpointsConfig: { [NETWORK]: { Aliases: [`${pod}${suffix}`] } } },
    });
    await c.putArchive(files() as never, { path: "/" });
    ips[pod] = "";
    started.push(c);
  }
  await Promise.all(started.map((c) => c.start()));
  for (const [pod, c] of zip(pods, started)) {
    const info = (await c.inspect()) as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
    ips[pod] = present(info.NetworkSettings.Networks[NETWORK], `${pod} on ${NETWORK}`).IPAddress;
  }
}, 600_000);

afterAll(async () => {
  await new Promise((r) => (api ? api.close(r) : r(undefined)));
  await removeLabelled(engine, OWNER);
});

describe("RabbitMQ's Kubernetes files on the real engine, peers from a Kubernetes API", () => {
  it("forms one cluster of the three pods' nodes, found through the API by host name", async () => {
    const running = await eventually("three running nodes", 150, async () => {
      const seen = await runningNodes(engine, container(pods[0]));
      return seen.length === 3 ? seen : undefined;
    });
    expect(running).toEqual([...nodes].sort());
    const asked = requests.filter((r) => r.path.endsWith("/endpoints/rabbitmq-nodes"));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((r) => r.method === "GET" && r.token === `Bearer ${TOKEN}`)).toBe(true);
  }, 200_000);

  it("gives the definitions' quorum queues a member on each node", async () => {
    const queue = first(t.rabbitmq.queues, "a queue in the topology").name;
    const members = await eventually("three members", 60, async () => {
      const m = await quorumMembers(engine, container(pods[2]), queue, t.rabbitmq.vhost);
      return Object.keys(m).length === 3 ? m : undefined;
    });
    expect(Object.keys(members).sort()).toEqual([...nodes].sort());
  }, 90_000);
});
