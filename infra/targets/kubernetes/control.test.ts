import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { IMAGE_USERS } from "../../config";
import { volumesOwnedBy } from "./image-users";
import { RUNBOOK_ROLE_RULES } from "./runbooks";
import {
  plainRules,
  serveFakeKubernetesApi,
  type FakeCluster,
  type FakeKubernetesApi,
  type FakeRule,
} from "../../../test/support/fake-kubernetes-api";
import { first, present } from "../../../test/support/checked";
import { KubernetesControl, type OneShotPod } from "./control";
import type { StackProcess } from "../stack-file";
import { TargetError } from "../target";

// No cluster runs here: the fake API (test/support/fake-kubernetes-api.ts, which says what it cannot
// prove) answers the client's real requests, under the runbooks pod's Role, from StatefulSets kept
// in memory whose controller reacts to scale patches and pod deletes (a new pod becomes ready after
// a few GETs, a removed one terminates for a few GETs), and one-shot pods that end after a few GETs.

interface MemoryPod {
  phase: string;
  ready: boolean;
  terminating?: boolean;
  /** GETs left before a starting pod is ready, or a terminating one is gone. */
  after: number;
  waiting?: string;
  /** metadata.uid, where a test gives the pod one. */
  uid?: string;
}
type MemorySet = { replicas: number; pods: Record<number, MemoryPod> };
/** The StatefulSets every test's cluster has (buildSets), and any other a test adds. */
type MemorySets = Record<"mysql-primary" | "redis" | "worker-orders", MemorySet> &
  Record<string, MemorySet | undefined>;

const NS = "fg";
const STEPS = 2;
const ROLE = plainRules(RUNBOOK_ROLE_RULES);

const starting = (): MemoryPod => ({ phase: "Pending", ready: false, after: STEPS });
const serving = (): MemoryPod => ({ phase: "Running", ready: true, after: 0 });

function buildSets(over: Partial<MemorySets> = {}): MemorySets {
  return {
    "mysql-primary": { replicas: 1, pods: { 0: serving() } },
    redis: { replicas: 3, pods: { 0: serving(), 1: serving(), 2: serving() } },
    "worker-orders": { replicas: 1, pods: { 0: serving() } },
    ...over,
  } as MemorySets;
}

const PROCESSES: StackProcess[] = [
  { name: "mysql-primary", statefulSet: "mysql-primary", ordinal: 0 },
  { name: "redis-1", statefulSet: "redis", ordinal: 0 },
  { name: "redis-2", statefulSet: "redis", ordinal: 1 },
  { name: "redis-3", statefulSet: "redis", ordinal: 2 },
  { name: "worker-orders-1", statefulSet: "worker-orders", ordinal: 0 },
  { name: "worker-orders-2", statefulSet: "worker-orders", ordinal: 1 },
];

function reconcile(set: MemorySet): void {
  for (const [key, pod] of Object.entries(set.pods))
    if (Number(key) >= set.replicas && !pod.terminating) Object.assign(pod, { terminating: true, after: STEPS });
  for (let i = 0; i < set.replicas; i++) set.pods[i] ??= starting();
}

function podJson(pod: MemoryPod): V1Pod {
  return {
    metadata: {
      ...(pod.terminating ? { deletionTimestamp: new Date("2026-01-01T00:00:00Z") } : {}),
      ...(pod.uid ? { uid: pod.uid } : {}),
    },
    spec: { nodeName: "node-1", containers: [{ name: "main" }] },
    status: {
      phase: pod.phase,
      conditions: [{ type: "Ready", status: pod.ready ? "True" : "False" }],
      containerStatuses: pod.waiting
        ? [
            {
              name: "main",
              image: "",
              imageID: "",
              ready: false,
              restartCount: 3,
              state: { waiting: { reason: pod.waiting } },
            },
          ]
        : [],
    },
  };
}

/**
 * The cluster in memory: `sets`, whose pods move on at each GET, and one-shot pods that are Pending
 * for two GETs then Succeeded with a log — or stay Pending, never scheduled, when `unschedulable`.
 */
function memoryCluster(sets: MemorySets, oneShot: "succeeds" | "unschedulable" = "succeeds") {
  const created: V1Pod[] = [];
  const oneShots = new Map<string, { gets: number }>();
  const locate = (name: string) => {
    const [, setName, ordinal] = /^(.+)-(\d+)$/.exec(name) ?? [];
    const set = setName === undefined ? undefined : sets[setName];
    return set && { set, ordinal: Number(ordinal) };
  };
  const cluster: FakeCluster = {
    async readPod(name) {
      const run = oneShots.get(name);
      if (run && oneShot === "unschedulable")
        return {
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
        };
      if (run) return { status: { phase: ++run.gets < 3 ? "Pending" : "Succeeded" } };
      const at = locate(name);
      const pod = at?.set.pods[at.ordinal];
      if (!at || !pod) return undefined;
      const body = podJson(pod);
      // The controller moves on between GETs: a starting pod comes up, a terminating one goes.
      if (pod.after > 0 && --pod.after === 0) {
        if (pod.terminating) delete at.set.pods[at.ordinal];
        else Object.assign(pod, serving());
      }
      return body;
    },
    async deletePod(name) {
      if (oneShots.delete(name)) return { status: { phase: "Succeeded" } };
      const at = locate(name);
      const pod = at?.set.pods[at.ordinal];
      if (!at || !pod) return undefined;
      delete at.set.pods[at.ordinal];
      reconcile(at.set);
      return podJson(pod);
    },
    async createPod(pod) {
      created.push(pod);
      oneShots.set(pod.metadata!.name!, { gets: 0 });
    },
    async podLog(name) {
      return oneShots.has(name) ? "0-2-41\n" : undefined;
    },
    async replicas(statefulSet) {
      return sets[statefulSet]?.replicas;
    },
    async scale(statefulSet, replicas) {
      const set = sets[statefulSet];
      if (!set) throw new Error(`the memory cluster has no StatefulSet ${statefulSet}`);
      set.replicas = replicas;
      reconcile(set);
    },
  };
  return { cluster, created };
}

const apis: FakeKubernetesApi[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

async function fakeKubernetes(
  sets: MemorySets,
  opts: { rules?: FakeRule[]; oneShot?: "succeeds" | "unschedulable" } = {},
) {
  const { cluster, created } = memoryCluster(sets, opts.oneShot);
  const api = await serveFakeKubernetesApi(cluster, {
    namespace: NS,
    rules: opts.rules ?? ROLE,
    user: `system:serviceaccount:${NS}:runbooks`,
  });
  apis.push(api);
  const control = new KubernetesControl({
    namespace: NS,
    processes: PROCESSES,
    api: { server: api.url },
    pollIntervalMs: 5,
    timeoutMs: 2_000,
  });
  return { control, calls: api.calls, created, url: api.url };
}

const scalePath = (set: string) => `/apis/apps/v1/namespaces/fg/statefulsets/${set}/scale`;
const writes = (calls: string[]) => calls.filter((c) => !c.startsWith("GET"));

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

  it("names each pod's instance by its uid and its containers' restarts", async () => {
    const sets = buildSets();
    sets.redis.pods[0] = { ...serving(), uid: "uid-redis-0" };
    sets.redis.pods[1] = { phase: "Running", ready: false, after: 0, waiting: "CrashLoopBackOff", uid: "uid-redis-1" };
    const k = await fakeKubernetes(sets);
    const listed = await k.control.list();
    expect(listed.find((p) => p.name === "redis-1")).toEqual({
      name: "redis-1",
      running: true,
      instance: "uid-redis-0#0",
    });
    expect(listed.find((p) => p.name === "redis-2")).toMatchObject({ running: false, instance: "uid-redis-1#3" });
    expect(listed.find((p) => p.name === "worker-orders-2")?.instance).toBeUndefined();
  });

  it("sends SIGKILL as a delete of the pod with a grace period of 0, under the runbooks' Role", async () => {
    const sets = buildSets();
    sets.redis.pods[1] = { ...serving(), uid: "uid-before" };
    const k = await fakeKubernetes(sets);
    await k.control.signal("redis-2", "SIGKILL");
    expect(writes(k.calls)).toEqual([
      'DELETE /api/v1/namespaces/fg/pods/redis-1 application/json {"gracePeriodSeconds":0}',
    ]);
    // Its StatefulSet recreates it: another pod, starting.
    expect(sets.redis.pods[1]).toMatchObject({ phase: "Pending", ready: false });
    expect(sets.redis.pods[1]?.uid).toBeUndefined();
  });

  it.each(["SIGSTOP", "SIGCONT"] as const)("refuses %s: Kubernetes cannot freeze a container", async (signal) => {
    const k = await fakeKubernetes(buildSets());
    const refused = k.control.signal("redis-1", signal);
    await expect(refused).rejects.toThrow(TargetError);
    await expect(refused).rejects.toThrow(`Kubernetes cannot send ${signal} to pod redis-0`);
    expect(writes(k.calls)).toEqual([]);
  });

  it("names the node a process's pod runs on, and none for a process without a pod", async () => {
    const k = await fakeKubernetes(buildSets());
    expect(await k.control.nodeOf("redis-2")).toBe("node-1");
    expect(await k.control.nodeOf("worker-orders-2")).toBeUndefined();
  });

  it("starts a pod beyond the replicas with a merge patch of the scale, and waits until it is ready", async () => {
    const sets = buildSets();
    const k = await fakeKubernetes(sets);
    await k.control.start("worker-orders-2");
    expect(sets["worker-orders"].replicas).toBe(2);
    expect(sets["worker-orders"].pods[1]).toMatchObject({ phase: "Running", ready: true });
    expect(writes(k.calls)).toEqual([
      `PATCH ${scalePath("worker-orders")} application/merge-patch+json {"spec":{"replicas":2}}`,
    ]);
    // It polled the pod through Pending (STEPS answers) before returning.
    expect(k.calls.filter((c) => c === "GET /api/v1/namespaces/fg/pods/worker-orders-1").length).toBe(STEPS + 1);
  });

  it("reads and sets a StatefulSet's replicas", async () => {
    const sets = buildSets();
    const k = await fakeKubernetes(sets);
    expect(await k.control.replicas("redis")).toBe(3);
    await k.control.scale("redis", 4);
    expect(sets.redis.replicas).toBe(4);
    expect(await k.control.replicas("redis")).toBe(4);
  });

  it("does nothing to start a pod that is already serving", async () => {
    const k = await fakeKubernetes(buildSets());
    await k.control.start("redis-2");
    expect(writes(k.calls)).toEqual([]);
  });

  it("deletes a failed or crash-looping pod so its controller recreates it, then waits for it", async () => {
    const sets = buildSets();
    sets.redis.pods[2] = { phase: "Running", ready: false, after: 0, waiting: "CrashLoopBackOff" };
    sets["mysql-primary"].pods[0] = { phase: "Failed", ready: false, after: 0 };
    const k = await fakeKubernetes(sets);
    await k.control.start("redis-3");
    await k.control.start("mysql-primary");
    expect(writes(k.calls)).toEqual([
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
    expect(writes(k.calls)).toEqual([]);
    expect(sets.redis.pods[0]).toMatchObject({ phase: "Running", ready: true });
  });

  it("stops the highest ordinal by scaling the StatefulSet down, and waits until the pod is gone", async () => {
    const sets = buildSets();
    const k = await fakeKubernetes(sets);
    await k.control.stop("redis-3");
    expect(sets.redis.replicas).toBe(2);
    expect(sets.redis.pods[2]).toBeUndefined();
    expect(writes(k.calls)).toEqual([
      `PATCH ${scalePath("redis")} application/merge-patch+json {"spec":{"replicas":2}}`,
    ]);
    // Stopping it again is a no-op.
    const before = k.calls.length;
    await k.control.stop("redis-3");
    expect(writes(k.calls.slice(before))).toEqual([]);
  });

  it("refuses to stop a pod below the highest ordinal, and changes nothing", async () => {
    const sets = buildSets();
    const k = await fakeKubernetes(sets);
    await expect(k.control.stop("redis-2")).rejects.toThrow(
      "Kubernetes cannot stop pod redis-1 alone: StatefulSet redis runs 3 pods and stops the highest ordinal first",
    );
    expect(sets.redis.replicas).toBe(3);
    expect(writes(k.calls)).toEqual([]);
  });

  it("rejects a process name the stack file does not list, naming the known ones", async () => {
    const k = await fakeKubernetes(buildSets());
    await expect(k.control.start("redis-9")).rejects.toThrow(
      "unknown process redis-9; known processes: mysql-primary, redis-1, redis-2, redis-3, worker-orders-1, worker-orders-2",
    );
    await expect(k.control.stop("api-1")).rejects.toThrow("unknown process api-1");
    expect(k.calls).toEqual([]);
  });

  it("names the verb, the resource and the API's message when a call is refused", async () => {
    const withoutScaleGet = ROLE.map((r) =>
      r.resources?.includes("statefulsets/scale") ? { ...r, verbs: r.verbs.filter((v) => v !== "get") } : r,
    );
    const k = await fakeKubernetes(buildSets(), { rules: withoutScaleGet });
    await expect(k.control.stop("redis-3")).rejects.toThrow(
      'kubernetes get statefulsets/redis/scale in namespace fg: HTTP 403: statefulsets.apps "redis" is forbidden: ' +
        'User "system:serviceaccount:fg:runbooks" cannot get resource "statefulsets/scale" in API group "apps" in the namespace "fg"',
    );
  });

  it("names a StatefulSet the cluster does not have", async () => {
    const k = await fakeKubernetes(buildSets());
    await expect(k.control.replicas("rabbitmq")).rejects.toThrow(
      'kubernetes get statefulsets/rabbitmq/scale in namespace fg: HTTP 404: statefulsets.apps "rabbitmq" not found',
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

describe("KubernetesControl's configuration", () => {
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved))
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });

  async function tokenApi(token: string) {
    const api = await serveFakeKubernetesApi(memoryCluster(buildSets()).cluster, { namespace: NS, token });
    apis.push(api);
    return api;
  }

  it("reads the cluster and the user's token from $KUBECONFIG, as on-call's laptop has them", async () => {
    const api = await tokenApi("laptop-token");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeconfig-"));
    // Plain http (the fake), so the cluster entry says to skip TLS checks, as one for `kubectl proxy` would.
    fs.writeFileSync(
      path.join(dir, "config"),
      `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${api.url}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: laptop-token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
    );
    process.env.KUBECONFIG = path.join(dir, "config");
    const control = new KubernetesControl({ namespace: NS, processes: PROCESSES });
    expect(await control.replicas("redis")).toBe(3);
  });

  it("sends the stack file's token, and reports the API's refusal of a wrong one", async () => {
    const api = await tokenApi("right");
    const wrong = new KubernetesControl({
      namespace: NS,
      processes: PROCESSES,
      api: { server: api.url, token: "wrong" },
    });
    await expect(wrong.replicas("redis")).rejects.toThrow(
      "kubernetes get statefulsets/redis/scale in namespace fg: HTTP 401: Unauthorized",
    );
    const right = new KubernetesControl({
      namespace: NS,
      processes: PROCESSES,
      api: { server: api.url, token: "right" },
    });
    expect(await right.replicas("redis")).toBe(3);
  });

  it("says how to give it a configuration when there is neither a kubeconfig nor a service account", async () => {
    // Outside a pod: a runbooks pod's service account would be found, as it should.
    expect(fs.existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")).toBe(false);
    delete process.env.KUBECONFIG;
    process.env.HOME = fs.mkdtempSync(path.join(os.tmpdir(), "home-"));
    const control = new KubernetesControl({ namespace: NS, processes: PROCESSES });
    await expect(control.list()).rejects.toThrow(
      "no Kubernetes configuration: set KUBECONFIG or run inside the runbooks pod",
    );
  });
});

describe("KubernetesControl.runPod", () => {
  const spec: OneShotPod = {
    name: "mysql-failover-swap",
    image: "app:1",
    command: ["sh", "-c", "true"],
    claims: { "/volumes/a": "data-mysql-primary-0", "/volumes/b": "data-mysql-replica-1-0" },
    env: { A: "/volumes/a" },
    runAs: { uid: IMAGE_USERS.mariadb.uid, gid: IMAGE_USERS.mariadb.gid },
    nodeName: "node-2",
  };
  const podPath = "/api/v1/namespaces/fg/pods/mysql-failover-swap";

  it("creates the pod with its claims as the data's owner, waits for it to end, returns its log and deletes it", async () => {
    const k = await fakeKubernetes(buildSets());
    expect(await k.control.runPod(spec)).toEqual({ succeeded: true, log: "0-2-41\n" });
    expect(k.calls.filter((c) => c.startsWith("POST"))).toEqual([
      expect.stringMatching(/^POST \/api\/v1\/namespaces\/fg\/pods application\/json \{/),
    ]);
    const pod = present(first(k.created, "the created pod").spec, "the created pod's spec");
    const container = first(pod.containers, "the pod's container");
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.nodeName).toBe("node-2");
    // As the MariaDB server's own pod runs: the data's owner, its group the volume's.
    expect(pod.securityContext).toEqual(volumesOwnedBy("mariadb"));
    expect(pod.volumes?.map((v) => v.persistentVolumeClaim?.claimName)).toEqual([
      "data-mysql-primary-0",
      "data-mysql-replica-1-0",
    ]);
    expect(container.volumeMounts?.map((m) => m.mountPath)).toEqual(["/volumes/a", "/volumes/b"]);
    expect(container.env).toEqual([{ name: "A", value: "/volumes/a" }]);
    expect(k.calls).toContain(`GET ${podPath}/log`);
    expect(k.calls.at(-1)).toBe(`DELETE ${podPath}`);
  });

  it("stops at once with the scheduler's reason when the pod cannot be placed", async () => {
    const k = await fakeKubernetes(buildSets(), { oneShot: "unschedulable" });
    await expect(k.control.runPod(spec)).rejects.toThrow(
      "pod mysql-failover-swap cannot be scheduled: 0/3 nodes are available: 3 node(s) had volume node affinity conflict.",
    );
    expect(k.calls.at(-1)).toBe(`DELETE ${podPath}`);
  });
});
