// A FAKE Kubernetes API — no cluster runs here. It proves only that a client speaks the requests
// @kubernetes/client-node sends for pods (get, create, delete, log) and a StatefulSet's scale
// subresource (get, merge / strategic-merge / JSON patch) — their paths, JSON bodies, content types and
// Status errors — and that each is a verb and resource a given Role allows. It CANNOT prove: a real
// API server (validation, defaulting, resourceVersion conflicts, field managers), the scheduler
// (placement, node affinity of ReadWriteOnce volumes), a kubelet (images, probes, restarts, volume
// mounts, fsGroup), the StatefulSet controller's real ordering and timing, admission (Pod Security
// "restricted", quotas), real RBAC (subjects, bindings, aggregation: only the rules given here are
// matched), authentication beyond one bearer token, TLS, or watch/list semantics (not served at all).
import { spawn } from "node:child_process";
import http from "node:http";
import type { V1Pod } from "@kubernetes/client-node";
import type { StackControl } from "../../infra/targets/local/control";
import { repoRoot } from "../stack/test-stack";

/** The cluster behind the fake API: what it holds, whatever keeps it (memory, the test stack). */
export interface FakeCluster {
  /** A pod as the API returns it, or undefined when there is none. */
  readPod(name: string): Promise<V1Pod | undefined>;
  /** Delete a pod; the pod as it was, or undefined when there was none. */
  deletePod(name: string): Promise<V1Pod | undefined>;
  /** Create a pod (the API has checked its name is free). */
  createPod(pod: V1Pod): Promise<void>;
  /** A pod's log, or undefined when there is no such pod. */
  podLog(name: string): Promise<string | undefined>;
  /** A StatefulSet's desired replicas, or undefined when there is no such StatefulSet. */
  replicas(statefulSet: string): Promise<number | undefined>;
  /** Set a StatefulSet's desired replicas (the API has checked it exists). */
  scale(statefulSet: string, replicas: number): Promise<void>;
}

/** One RBAC rule (a Role's `rules` entry) as the fake matches it. */
export interface FakeRule {
  apiGroups?: readonly string[];
  resources?: readonly string[];
  verbs: readonly string[];
}

/** A Role's rules as plain strings (a Pulumi program's rules are `Input`s: fail if any is not plain yet). */
export function plainRules(
  rules: ReadonlyArray<{ apiGroups?: unknown; resources?: unknown; verbs: unknown }>,
): FakeRule[] {
  const strings = (v: unknown, what: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string"))
      throw new Error(`${what} is not a plain string list`);
    return v;
  };
  return rules.map((r) => ({
    apiGroups: strings(r.apiGroups, "apiGroups"),
    resources: strings(r.resources, "resources"),
    verbs: strings(r.verbs, "verbs") ?? [],
  }));
}

/** The fake API's options: the one namespace it serves, and optionally a bearer token and a Role to enforce. */
export interface FakeApiOptions {
  namespace: string;
  /** Require `Authorization: Bearer <token>` (else 401); none, as behind `kubectl proxy`. */
  token?: string;
  /** Allow only what these rules allow (else 403, worded as the API server words it). */
  rules?: FakeRule[];
  /** The user a 403 names. */
  user?: string;
}

/** A running fake API: its URL, each request as `METHOD /path[ content-type body]`, and how to stop it. */
export interface FakeKubernetesApi {
  url: string;
  calls: string[];
  close: () => Promise<void>;
}

const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
];

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The replicas a scale patch asks for, read as the API server reads each patch type. */
function patchedReplicas(contentType: string, body: string): number {
  const parsed = JSON.parse(body) as unknown;
  if (contentType === "application/json-patch+json") {
    if (!Array.isArray(parsed))
      throw new StatusError(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    const op = (parsed as Array<{ op: string; path: string; value: unknown }>).find((o) => o.path === "/spec/replicas");
    if (op && (op.op === "replace" || op.op === "add") && Number.isInteger(op.value)) return op.value as number;
  } else {
    const replicas = (parsed as { spec?: { replicas?: unknown } }).spec?.replicas;
    if (Number.isInteger(replicas)) return replicas as number;
  }
  throw new StatusError(422, "Invalid", `the fake reads only spec.replicas from a scale patch, got ${body}`);
}

/** Whether `rules` let `verb` act on `resource` of API group `group`. */
function allowed(rules: FakeRule[], group: string, resource: string, verb: string): boolean {
  const has = (list: readonly string[] | undefined, v: string) => !!list && (list.includes(v) || list.includes("*"));
  return rules.some((r) => has(r.apiGroups, group) && has(r.resources, resource) && has(r.verbs, verb));
}

/** One request: routed by path, checked (namespace, verb, Role, content type), answered from the cluster. */
async function handle(
  cluster: FakeCluster,
  opts: FakeApiOptions,
  req: { method: string; path: string; contentType: string; body: string },
): Promise<{ status: number; body: unknown; text?: string }> {
  const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+)(\/log)?)?$/.exec(req.path);
  const scale = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/statefulsets\/([^/]+)\/scale$/.exec(req.path);
  const route = pods ?? scale;
  if (!route) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
  const namespace = decodeURIComponent(route[1] ?? "");
  const name = route[2] && decodeURIComponent(route[2]);
  const group = pods ? "" : "apps";
  const resource = pods ? (pods[3] ? "pods/log" : "pods") : "statefulsets/scale";
  const verb = { GET: name ? "get" : "list", POST: "create", DELETE: "delete", PATCH: "patch", PUT: "update" }[
    req.method
  ];
  if (!verb) throw new StatusError(405, "MethodNotAllowed", `the server does not allow method ${req.method}`);
  if (opts.rules && !allowed(opts.rules, group, resource, verb)) {
    const kind = pods ? "pods" : "statefulsets.apps";
    throw new StatusError(
      403,
      "Forbidden",
      `${kind}${name ? ` "${name}"` : ""} is forbidden: User "${opts.user ?? "fake-user"}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`,
    );
  }
  const missing = () =>
    new StatusError(404, "NotFound", pods ? `pods "${name}" not found` : `statefulsets.apps "${name}" not found`);
  // One namespace is served: in any other, nothing exists.
  const here = namespace === opts.namespace;

  if (scale) {
    const replicas = here ? await cluster.replicas(name!) : undefined;
    if (replicas === undefined) throw missing();
    const answer = (n: number) => ({
      status: 200,
      body: { kind: "Scale", apiVersion: "autoscaling/v1", metadata: { name, namespace }, spec: { replicas: n } },
    });
    if (verb === "get") return answer(replicas);
    if (verb !== "patch") throw new StatusError(501, "NotImplemented", `the fake does not ${verb} a scale`);
    if (!PATCH_TYPES.includes(req.contentType))
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}, application/apply-patch+yaml`,
      );
    const wanted = patchedReplicas(req.contentType, req.body);
    await cluster.scale(name!, wanted);
    return answer(wanted);
  }

  if (verb === "create" && !name) {
    if (req.contentType !== "application/json")
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        `the fake takes a Pod as application/json, got ${req.contentType}`,
      );
    const pod = JSON.parse(req.body) as V1Pod;
    const podName = pod.metadata?.name;
    if (!podName || !pod.spec?.containers?.length)
      throw new StatusError(422, "Invalid", "Pod is invalid: metadata.name and spec.containers are required");
    if (!here) throw new StatusError(404, "NotFound", `namespaces "${namespace}" not found`);
    if (await cluster.readPod(podName)) throw new StatusError(409, "AlreadyExists", `pods "${podName}" already exists`);
    await cluster.createPod(pod);
    return { status: 201, body: { ...pod, metadata: { ...pod.metadata, namespace } } };
  }
  if (!name) throw new StatusError(501, "NotImplemented", `the fake does not ${verb} pods (no list, no watch)`);
  if (verb === "get" && pods![3]) {
    const log = here ? await cluster.podLog(name) : undefined;
    if (log === undefined) throw missing();
    return { status: 200, body: undefined, text: log };
  }
  if (verb !== "get" && verb !== "delete")
    throw new StatusError(501, "NotImplemented", `the fake does not ${verb} a pod`);
  const pod = here ? await (verb === "get" ? cluster.readPod(name) : cluster.deletePod(name)) : undefined;
  if (!pod) throw missing();
  return {
    status: 200,
    body: { kind: "Pod", apiVersion: "v1", ...pod, metadata: { ...pod.metadata, name, namespace } },
  };
}

/** Serve `cluster` as a Kubernetes API over plain HTTP on 127.0.0.1 (as `kubectl proxy` would). */
export async function serveFakeKubernetesApi(cluster: FakeCluster, opts: FakeApiOptions): Promise<FakeKubernetesApi> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const method = req.method ?? "";
      const path = new URL(req.url ?? "/", "http://api").pathname;
      const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
      calls.push(`${method} ${path}${body ? ` ${contentType} ${body}` : ""}`);
      const reply = (status: number, payload: unknown, text?: string) =>
        void res
          .writeHead(status, { "content-type": text === undefined ? "application/json" : "text/plain" })
          .end(text ?? JSON.stringify(payload));
      const authorized = !opts.token || req.headers.authorization === `Bearer ${opts.token}`;
      const answer = authorized
        ? handle(cluster, opts, { method, path, contentType, body })
        : Promise.reject(new StatusError(401, "Unauthorized", "Unauthorized"));
      answer.then(
        (a) => reply(a.status, a.body, a.text),
        (err: Error) => {
          const status = err instanceof StatusError ? err : new StatusError(500, "InternalError", err.message);
          reply(status.code, {
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message: status.message,
            reason: status.reason,
            code: status.code,
          });
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    // The client keeps connections alive: close them too, or the test process never exits.
    close: () => new Promise<void>((resolve) => void server.close(() => resolve()).closeAllConnections()),
  };
}

/** How a process of the stack maps onto a StatefulSet pod (the program's own mapping, kubernetesProcesses). */
export interface PodOf {
  name: string;
  statefulSet?: string;
  ordinal?: number;
}

/** How a one-shot pod's command ended on this host. */
interface HostRun {
  code: number;
  output: string;
}

/**
 * Run a one-shot pod's command on this host, each mount path (exactly, or as a prefix) in its
 * command line and environment replaced by the folder standing for its volume.
 */
function runOnHost(command: string[], env: Record<string, string>, mounts: Map<string, string>): Promise<HostRun> {
  const mapped = (v: string) =>
    mounts.get(v) ?? [...mounts].reduce((s, [from, to]) => s.split(`${from}/`).join(`${to}/`), v);
  const [program, ...args] = command;
  if (!program) return Promise.resolve({ code: 1, output: "the pod's container has no command" });
  return new Promise((resolve) => {
    const child = spawn(program, args.map(mapped), {
      cwd: repoRoot,
      env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, mapped(v)])) },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    // stdout whole, then stderr: a kubelet interleaves them by line, which a test need not depend on.
    child.on("close", (code) => resolve({ code: code ?? 1, output: Buffer.concat([...out, ...err]).toString() }));
  });
}

/**
 * The test stack as a cluster: a StatefulSet pod is the stack's process of that name (`processes`);
 * its StatefulSet's scale starts and stops them through the control socket. Like the StatefulSet
 * controller, a pod within the desired replicas that is not running is started again when it is
 * looked at — unless the test marked it `crashing`, which reports it in CrashLoopBackOff until its
 * StatefulSet is scaled below it or it is deleted. A one-shot pod runs its command on this host, each
 * claim it mounts standing for a folder (`claims`: a MariaDB server's data directory).
 */
export async function stackCluster(
  processes: PodOf[],
  claims: Record<string, string>,
  control: Pick<StackControl, "list" | "start" | "stop">,
): Promise<FakeCluster & { crashing: Set<string> }> {
  const crashing = new Set<string>();
  // Each StatefulSet wants the pods the stack runs now (the program's API slots beyond them are scaled down).
  const desired = new Map<string, number>();
  const runningNow = new Set((await control.list()).filter((p) => p.running).map((p) => p.name));
  for (const p of processes)
    if (p.statefulSet !== undefined)
      desired.set(p.statefulSet, (desired.get(p.statefulSet) ?? 0) + (runningNow.has(p.name) ? 1 : 0));
  const byPod = new Map(processes.map((p) => [`${p.statefulSet}-${p.ordinal}`, p]));
  const oneShots = new Map<string, { phase: string; log: string }>();
  const running: V1Pod = { status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } };
  const crashLooping: V1Pod = {
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "False" }],
      containerStatuses: [
        {
          name: "main",
          image: "",
          imageID: "",
          ready: false,
          restartCount: 5,
          state: { waiting: { reason: "CrashLoopBackOff" } },
        },
      ],
    },
  };

  return {
    crashing,
    async readPod(name) {
      const oneShot = oneShots.get(name);
      if (oneShot) return { status: { phase: oneShot.phase } };
      const p = byPod.get(name);
      if (!p) return undefined;
      if (crashing.has(p.name)) return crashLooping;
      const live = (await control.list()).find((x) => x.name === p.name);
      if (live?.running) return running;
      // The StatefulSet controller recreates a pod within its replicas; here, once it is looked at.
      if (live && p.ordinal! < (desired.get(p.statefulSet!) ?? 0)) void control.start(p.name).catch(() => undefined);
      return undefined;
    },
    async deletePod(name) {
      const oneShot = oneShots.get(name);
      if (oneShot) return (void oneShots.delete(name), { status: { phase: oneShot.phase } });
      const p = byPod.get(name);
      if (!p) return undefined;
      const before = crashing.has(p.name) ? crashLooping : running;
      crashing.delete(p.name);
      await control.stop(p.name);
      return before;
    },
    async createPod(pod) {
      const c = pod.spec!.containers[0];
      if (!c) throw new Error("a pod without a container");
      const claimOf = new Map((pod.spec!.volumes ?? []).map((v) => [v.name, v.persistentVolumeClaim?.claimName]));
      const mounts = new Map(
        (c.volumeMounts ?? []).map((m) => {
          const claim = claimOf.get(m.name);
          if (!claim || !claims[claim]) throw new Error(`no claim ${claim ?? `for volume ${m.name}`}`);
          return [m.mountPath, claims[claim]] as const;
        }),
      );
      const run = { phase: "Running", log: "" };
      oneShots.set(pod.metadata!.name!, run);
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? ""]));
      void runOnHost(c.command ?? [], env, mounts).then((r) => {
        run.log = r.output;
        run.phase = r.code === 0 ? "Succeeded" : "Failed";
      });
    },
    async podLog(name) {
      return oneShots.get(name)?.log;
    },
    async replicas(statefulSet) {
      return desired.get(statefulSet);
    },
    async scale(statefulSet, replicas) {
      desired.set(statefulSet, replicas);
      const live = await control.list();
      for (const p of processes.filter((x) => x.statefulSet === statefulSet)) {
        const isRunning = live.find((x) => x.name === p.name)?.running;
        if (p.ordinal! >= replicas) {
          crashing.delete(p.name);
          if (isRunning) await control.stop(p.name);
        } else if (isRunning === false && !crashing.has(p.name)) await control.start(p.name);
      }
    },
  };
}
