import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { IMAGE_USERS } from "../../infra/config";
import { volumesOwnedBy } from "../../infra/kubernetes/image-users";
import { inClusterApi, KubernetesControl } from "./kubernetes-control";
import type { StackProcess } from "./stack-file";

// No cluster runs here: an HTTP server stands in for the API server's pod and scale endpoints, with
// StatefulSets whose controller reacts to scale patches and pod deletes (a new pod becomes ready
// after a few GETs, a removed one terminates for a few GETs). Unverified against a real cluster.
interface FakePod {
  phase: string;
  ready: boolean;
  terminating?: boolean;
  /** GETs left before a starting pod is ready, or a terminating one is gone. */
  after: number;
  waiting?: string;
}
type FakeSets = Record<string, { replicas: number; pods: Record<number, FakePod> }>;

const NS = "fg";
const TOKEN = "test-token";
const STEPS = 2;

const starting = (): FakePod => ({ phase: "Pending", ready: false, after: STEPS });
const serving = (): FakePod => ({ phase: "Running", ready: true, after: 0 });

function buildSets(over: Partial<FakeSets> = {}): FakeSets {
  return {
    "mysql-primary": { replicas: 1, pods: { 0: serving() } },
    redis: { replicas: 3, pods: { 0: serving(), 1: serving(), 2: serving() } },
    "worker-orders": { replicas: 1, pods: { 0: serving() } },
    ...over,
  } as FakeSets;
}

const PROCESSES: StackProcess[] = [
  { name: "mysql-primary", statefulSet: "mysql-primary", ordinal: 0 },
  { name: "redis-1", statefulSet: "redis", ordinal: 0 },
  { name: "redis-2", statefulSet: "redis", ordinal: 1 },
  { name: "redis-3", statefulSet: "redis", ordinal: 2 },
  { name: "worker-orders-1", statefulSet: "worker-orders", ordinal: 0 },
  { name: "worker-orders-2", statefulSet: "worker-orders", ordinal: 1 },
];

function reconcile(set: FakeSets[string]): void {
  for (const [key, pod] of Object.entries(set.pods))
    if (Number(key) >= set.replicas && !pod.terminating) Object.assign(pod, { terminating: true, after: STEPS });
  for (let i = 0; i < set.replicas; i++) set.pods[i] ??= starting();
}

function podJson(name: string, pod: FakePod) {
  return {
    metadata: { name, ...(pod.terminating ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    status: {
      phase: pod.phase,
      conditions: [{ type: "Ready", status: pod.ready ? "True" : "False" }],
      containerStatuses: pod.waiting ? [{ state: { waiting: { reason: pod.waiting } } }] : [],
    },
  };
}

const servers: http.Server[] = [];
afterEach(() => {
  // The client keeps connections alive; close them too, or jest never exits.
  for (const s of servers.splice(0)) s.close().closeAllConnections();
});

async function fakeKubernetes(sets: FakeSets, forbidden: string[] = []) {
  const calls: string[] = [];
  const send = (res: http.ServerResponse, status: number, body: unknown) =>
    void res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      const url = req.url ?? "";
      calls.push(`${req.method} ${url}${text ? ` ${req.headers["content-type"]} ${text}` : ""}`);
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { message: "Unauthorized" });
      if (forbidden.includes(url)) return send(res, 403, { kind: "Status", message: `forbidden: ${url}` });
      const scale = /^\/apis\/apps\/v1\/namespaces\/fg\/statefulsets\/([^/]+)\/scale$/.exec(url);
      if (scale) {
        const set = sets[scale[1]];
        if (!set) return send(res, 404, { message: `statefulsets.apps "${scale[1]}" not found` });
        if (req.method === "PATCH") {
          set.replicas = (JSON.parse(text) as { spec: { replicas: number } }).spec.replicas;
          reconcile(set);
        }
        return send(res, 200, { spec: { replicas: set.replicas } });
      }
      const podMatch = /^\/api\/v1\/namespaces\/fg\/pods\/(.+)-(\d+)$/.exec(url);
      const set = podMatch && sets[podMatch[1]];
      const ordinal = Number(podMatch?.[2]);
      const pod = set?.pods[ordinal];
      if (!set || !pod) return send(res, 404, { message: `pods "${podMatch?.[1]}-${ordinal}" not found` });
      if (req.method === "DELETE") {
        delete set.pods[ordinal];
        reconcile(set);
        return send(res, 200, {});
      }
      const body = podJson(`${podMatch![1]}-${ordinal}`, pod);
      // The controller moves on between GETs: a starting pod comes up, a terminating one goes.
      if (pod.after > 0 && --pod.after === 0) {
        if (pod.terminating) delete set.pods[ordinal];
        else Object.assign(pod, serving());
      }
      send(res, 200, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const control = new KubernetesControl({
    namespace: NS,
    processes: PROCESSES,
    api: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: TOKEN },
    pollIntervalMs: 5,
    timeoutMs: 2_000,
  });
  servers.push(server);
  return { control, calls };
}

const scalePath = (set: string) => `/apis/apps/v1/namespaces/fg/statefulsets/${set}/scale`;

describe("KubernetesControl", () => {
  it("lists every process, running only when its pod is Running and Ready", async () => {
    const sets = buildSets();
    sets.redis.pods[1] = { phase: "Running", ready: false, after: 0 };
    sets.redis.pods[2] = { phase: "Running", ready: true, terminating: true, after: 99 };
    const k = await fakeKubernetes(sets);
    expect(await k.control.list()).toEqual([
      { name: "mysql-primary", running: true },
      { name: "redis-1", running: true },
      { name: "redis-2", running: false },
      { name: "redis-3", running: false },
      { name: "worker-orders-1", running: true },
      { name: "worker-orders-2", running: false },
    ]);
  });

  it("starts a pod beyond the replicas by scaling the StatefulSet up, and waits until it is ready", async () => {
    const sets = buildSets();
    const k = await fakeKubernetes(sets);
    await k.control.start("worker-orders-2");
    expect(sets["worker-orders"].replicas).toBe(2);
    expect(sets["worker-orders"].pods[1]).toMatchObject({ phase: "Running", ready: true });
    expect(k.calls).toContain(
      `PATCH ${scalePath("worker-orders")} application/merge-patch+json {"spec":{"replicas":2}}`,
    );
    // It polled the pod through Pending (STEPS answers) before returning.
    expect(k.calls.filter((c) => c === "GET /api/v1/namespaces/fg/pods/worker-orders-1").length).toBe(STEPS + 1);
  });

  it("does nothing to start a pod that is already serving", async () => {
    const k = await fakeKubernetes(buildSets());
    await k.control.start("redis-2");
    expect(k.calls.filter((c) => !c.startsWith("GET"))).toEqual([]);
  });

  it("deletes a failed or crash-looping pod so its controller recreates it, then waits for it", async () => {
    const sets = buildSets();
    sets.redis.pods[2] = { phase: "Running", ready: false, after: 0, waiting: "CrashLoopBackOff" };
    sets["mysql-primary"].pods[0] = { phase: "Failed", ready: false, after: 0 };
    const k = await fakeKubernetes(sets);
    await k.control.start("redis-3");
    await k.control.start("mysql-primary");
    expect(k.calls.filter((c) => !c.startsWith("GET"))).toEqual([
      "DELETE /api/v1/namespaces/fg/pods/redis-2",
      "DELETE /api/v1/namespaces/fg/pods/mysql-primary-0",
    ]);
    expect(await k.control.list()).toEqual(
      PROCESSES.map((p) => ({ name: p.name, running: p.name !== "worker-orders-2" })),
    );
  });

  it("waits for a pod that is only starting instead of deleting it", async () => {
    const sets = buildSets();
    sets.redis.pods[0] = starting();
    const k = await fakeKubernetes(sets);
    await k.control.start("redis-1");
    expect(k.calls.filter((c) => !c.startsWith("GET"))).toEqual([]);
    expect(sets.redis.pods[0]).toMatchObject({ phase: "Running", ready: true });
  });

  it("stops the highest ordinal by scaling the StatefulSet down, and waits until the pod is gone", async () => {
    const sets = buildSets();
    const k = await fakeKubernetes(sets);
    await k.control.stop("redis-3");
    expect(sets.redis.replicas).toBe(2);
    expect(sets.redis.pods[2]).toBeUndefined();
    expect(k.calls).toContain(`PATCH ${scalePath("redis")} application/merge-patch+json {"spec":{"replicas":2}}`);
    // Stopping it again is a no-op.
    const before = k.calls.length;
    await k.control.stop("redis-3");
    expect(k.calls.slice(before).filter((c) => !c.startsWith("GET"))).toEqual([]);
  });

  it("refuses to stop a pod below the highest ordinal, and changes nothing", async () => {
    const sets = buildSets();
    const k = await fakeKubernetes(sets);
    await expect(k.control.stop("redis-2")).rejects.toThrow(
      "Kubernetes cannot stop pod redis-1 alone: StatefulSet redis runs 3 pods and stops the highest ordinal first",
    );
    expect(sets.redis.replicas).toBe(3);
    expect(k.calls.filter((c) => !c.startsWith("GET"))).toEqual([]);
  });

  it("rejects a process name the stack file does not list, naming the known ones", async () => {
    const k = await fakeKubernetes(buildSets());
    await expect(k.control.start("redis-9")).rejects.toThrow(
      "unknown process redis-9; known processes: mysql-primary, redis-1, redis-2, redis-3, worker-orders-1, worker-orders-2",
    );
    await expect(k.control.stop("api-1")).rejects.toThrow("unknown process api-1");
    expect(k.calls).toEqual([]);
  });

  it("reports the method, path, status and the API's message when a call fails", async () => {
    const k = await fakeKubernetes(buildSets(), [scalePath("redis")]);
    await expect(k.control.stop("redis-3")).rejects.toThrow(
      `kubernetes GET ${scalePath("redis")}: HTTP 403: forbidden: ${scalePath("redis")}`,
    );
  });

  it("gives up when the pod does not become ready within the timeout", async () => {
    const sets = buildSets();
    sets.redis.pods[0] = { phase: "Pending", ready: false, after: 1_000_000 };
    const k = await fakeKubernetes(sets);
    await expect(k.control.start("redis-1")).rejects.toThrow(
      "pod redis-0 not running and ready after 2 s (phase Pending)",
    );
  });
});

describe("inClusterApi", () => {
  it("reads the service host, port, token and CA a pod is given", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-"));
    fs.writeFileSync(path.join(dir, "token"), "abc\n");
    fs.writeFileSync(path.join(dir, "ca.crt"), "CA");
    const api = inClusterApi({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }, dir);
    expect({ ...api, ca: api.ca?.toString() }).toEqual({ server: "https://10.0.0.1:443", token: "abc", ca: "CA" });
  });

  it("names the missing variable or file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-"));
    expect(() => inClusterApi({ KUBERNETES_SERVICE_PORT: "443" }, dir)).toThrow("KUBERNETES_SERVICE_HOST is not set");
    expect(() => inClusterApi({ KUBERNETES_SERVICE_HOST: "h", KUBERNETES_SERVICE_PORT: "443" }, dir)).toThrow(
      `cannot read ${path.join(dir, "token")}`,
    );
  });
});

describe("KubernetesControl.runPod", () => {
  // A one-shot pod's life as the API reports it: Pending, then Succeeded (or never scheduled).
  async function podApi(outcome: "succeeds" | "unschedulable") {
    const calls: string[] = [];
    let created: { metadata: { name: string }; spec: Record<string, unknown> } | undefined;
    let gets = 0;
    const server = http.createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        calls.push(`${req.method} ${req.url}`);
        const send = (status: number, body: unknown) =>
          void res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
        if (req.method === "POST") {
          expect(req.headers["content-type"]).toBe("application/json");
          created = JSON.parse(text) as typeof created;
          return send(201, created);
        }
        if (req.url?.endsWith("/log")) return void res.writeHead(200).end("0-2-41\n");
        if (req.method === "DELETE") return send(created ? 200 : 404, {});
        if (!created) return send(404, { message: "not found" });
        if (outcome === "unschedulable")
          return send(200, {
            status: {
              phase: "Pending",
              conditions: [
                {
                  type: "PodScheduled",
                  status: "False",
                  reason: "Unschedulable",
                  message: "0/3 nodes are available: 3 node(s) had volume node affinity conflict.",
                },
              ],
            },
          });
        send(200, { status: { phase: ++gets < 3 ? "Pending" : "Succeeded" } });
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    servers.push(server);
    const control = new KubernetesControl({
      namespace: NS,
      processes: PROCESSES,
      api: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
      pollIntervalMs: 5,
    });
    return { control, calls, created: () => created };
  }

  const spec = {
    name: "mysql-failover-swap",
    image: "app:1",
    command: ["sh", "-c", "true"],
    claims: { "/volumes/a": "data-mysql-primary-0", "/volumes/b": "data-mysql-replica-1-0" },
    env: { A: "/volumes/a" },
    runAs: { uid: IMAGE_USERS.mariadb.uid, gid: IMAGE_USERS.mariadb.gid },
    nodeName: "node-2",
  };

  it("creates the pod with its claims as the data's owner, waits for it to end, returns its log and deletes it", async () => {
    const api = await podApi("succeeds");
    expect(await api.control.runPod(spec)).toEqual({ succeeded: true, log: "0-2-41\n" });
    const pod = api.created()!.spec as {
      restartPolicy: string;
      nodeName: string;
      securityContext: Record<string, unknown>;
      volumes: Array<{ persistentVolumeClaim: { claimName: string } }>;
      containers: Array<{ volumeMounts: Array<{ mountPath: string }>; env: unknown[] }>;
    };
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.nodeName).toBe("node-2");
    // As the MariaDB server's own pod runs: the data's owner, its group the volume's.
    expect(pod.securityContext).toEqual(volumesOwnedBy("mariadb"));
    expect(pod.volumes.map((v) => v.persistentVolumeClaim.claimName)).toEqual([
      "data-mysql-primary-0",
      "data-mysql-replica-1-0",
    ]);
    expect(pod.containers[0].volumeMounts.map((m) => m.mountPath)).toEqual(["/volumes/a", "/volumes/b"]);
    expect(api.calls.at(-1)).toBe("DELETE /api/v1/namespaces/fg/pods/mysql-failover-swap");
  });

  it("stops at once with the scheduler's reason when the pod cannot be placed", async () => {
    const api = await podApi("unschedulable");
    await expect(api.control.runPod(spec)).rejects.toThrow(
      "pod mysql-failover-swap cannot be scheduled: 0/3 nodes are available: 3 node(s) had volume node affinity conflict.",
    );
    expect(api.calls.at(-1)).toBe("DELETE /api/v1/namespaces/fg/pods/mysql-failover-swap");
  });
});
