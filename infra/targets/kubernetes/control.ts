/**
 * ProcessControl on Kubernetes: each stack process is one pod of a StatefulSet, started and stopped
 * through the StatefulSet's scale subresource (or, for a crashed pod, by deleting it so its
 * controller recreates it), with the maintained client (@kubernetes/client-node). Note: the API
 * StatefulSet's replicas are also driven by KEDA's HPA, which may undo a manual scale.
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type V1Pod,
} from "@kubernetes/client-node";
import type { StackProcess } from "../stack-file";
import { TargetError, type ProcessControl, type ProcessSignal, type ProcessState } from "../target";

/** An API server named outright (the stack file's `kubernetes.api`, e.g. `kubectl proxy`'s URL). */
export interface KubernetesApi {
  server: string;
  /** A bearer token; none behind `kubectl proxy`, which authenticates for its caller. */
  token?: string;
}

/** A one-shot pod: a command in an image, with PersistentVolumeClaims mounted by path. */
export interface OneShotPod {
  name: string;
  image: string;
  command: string[];
  /** Mount path → claim name. */
  claims: Record<string, string>;
  readOnly?: boolean;
  env?: Record<string, string>;
  /**
   * Run as the data's owner: its uid and gid, the gid also as fsGroup (the claims' group, given to a
   * new volume by its server's pod; OnRootMismatch, so a large volume is not re-chowned).
   */
  runAs?: { uid: number; gid: number };
  /**
   * Run on this node: beside a pod that still holds a ReadWriteOnce claim (attached to its node), a
   * pod elsewhere would hang on the volume's attachment.
   */
  nodeName?: string;
}

/** What KubernetesControl needs: the namespace, the processes from the stack file, and optionally the API. */
export interface KubernetesControlOptions {
  namespace: string;
  processes: StackProcess[];
  /** Without it, the client's usual configuration (see kubeConfig), read at the first call. */
  api?: KubernetesApi;
  /** How often a wait polls the pod; default 2 s. */
  pollIntervalMs?: number;
  /** How long start/stop wait for the pod; default 180 s. */
  timeoutMs?: number;
}

/** What the client does when it finds no configuration at all: an unauthenticated local port no cluster serves. */
const CLIENT_FALLBACK_SERVER = "http://localhost:8080";

/**
 * The client's configuration: the named server, or else the usual one — $KUBECONFIG, then
 * ~/.kube/config (on-call's laptop), then the pod's service account (the runbooks pod).
 */
export function kubeConfig(api?: KubernetesApi): KubeConfig {
  const kc = new KubeConfig();
  if (api) {
    // client-node refuses plain http unless told to skip TLS checks: there is no TLS to check.
    const skipTLSVerify = new URL(api.server).protocol === "http:";
    kc.loadFromClusterAndUser(
      { name: "stack-file", server: api.server, skipTLSVerify },
      { name: "stack-file", token: api.token },
    );
    return kc;
  }
  kc.loadFromDefault();
  if (kc.getCurrentContext() === "loaded-context" && kc.getCurrentCluster()?.server === CLIENT_FALLBACK_SERVER)
    throw new Error("no Kubernetes configuration: set KUBECONFIG or run inside the runbooks pod");
  return kc;
}

/** How long one API call may take before it is abandoned. */
const CALL_TIMEOUT_MS = 30_000;

/** Per call: abandon it after CALL_TIMEOUT_MS (the client's own default waits minutes for a silent server). */
const timeoutOptions = (): ConfigurationOptions => ({
  middleware: [
    {
      pre: (request) => {
        request.setSignal(AbortSignal.timeout(CALL_TIMEOUT_MS));
        return new Observable(Promise.resolve(request));
      },
      post: (response) => new Observable(Promise.resolve(response)),
    },
  ],
  middlewareMergeStrategy: "append",
});

/** The API's own words for a failed call: its Status message, else the client's for the status code. */
function describeFailure(err: unknown): string {
  if (!(err instanceof ApiException)) {
    const e = err as Error & { cause?: Error };
    return e.cause?.message ? `${e.message} (${e.cause.message})` : e.message;
  }
  const body: unknown = err.body;
  let message = typeof body === "string" ? body : "";
  try {
    message = (JSON.parse(message) as { message?: string }).message ?? message;
  } catch {
    // Not a Status object: its text as it came.
  }
  // Some codes (401) come without their body: the client's own word for the code ("Unauthorized").
  message ||= /^Message: (.+)$/m.exec(err.message)?.[1] ?? "no message";
  return `HTTP ${err.code}: ${message}`;
}

/** Serving: Running, Ready, and not on its way out. */
function isRunning(pod: V1Pod | undefined): boolean {
  if (!pod || pod.metadata?.deletionTimestamp) return false;
  const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  return pod.status?.phase === "Running" && ready;
}

/**
 * Which run of a process a pod is: its uid (a recreated pod has a new one) and its containers'
 * restarts (the kubelet restarts a crashed container in the same pod); none without a pod.
 */
function instanceOf(pod: V1Pod | undefined): string | undefined {
  const uid = pod?.metadata?.uid;
  if (!uid) return undefined;
  const restarts = (pod.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
  return `${uid}#${restarts}`;
}

/** Will not come up by itself: failed, or a container backing off. A pod merely starting is not broken. */
function isBroken(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (["Failed", "Succeeded", "Unknown"].includes(pod.status?.phase ?? "")) return true;
  return (pod.status?.containerStatuses ?? []).some((c) => /BackOff|Err/.test(c.state?.waiting?.reason ?? ""));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts and stops the stack's StatefulSet pods by their local-stack names. */
export class KubernetesControl implements ProcessControl {
  private clients?: { core: CoreV1Api; apps: AppsV1Api };
  private readonly namespace: string;
  private readonly processes: StackProcess[];
  private readonly api?: KubernetesApi;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(opts: KubernetesControlOptions) {
    this.namespace = opts.namespace;
    this.processes = opts.processes;
    this.api = opts.api;
    this.pollIntervalMs = opts.pollIntervalMs ?? 2_000;
    this.timeoutMs = opts.timeoutMs ?? 180_000;
  }

  async list(): Promise<ProcessState[]> {
    return Promise.all(
      this.processes.map(async (p) => {
        const pod = await this.getPod(this.locate(p.name).pod);
        return { name: p.name, running: isRunning(pod), instance: instanceOf(pod) };
      }),
    );
  }

  /**
   * A fault's signal. SIGKILL deletes the pod with a grace period of 0 (no SIGTERM first; its
   * StatefulSet recreates it, a new uid); a pod already gone is fine. Kubernetes has no way to
   * freeze a container: SIGSTOP and SIGCONT are a TargetError.
   */
  async signal(name: string, signal: ProcessSignal): Promise<void> {
    const at = this.locate(name);
    if (signal !== "SIGKILL")
      throw new TargetError(
        `Kubernetes cannot send ${signal} to pod ${at.pod}: the API has no way to freeze a container`,
      );
    await this.call(
      `delete pods/${at.pod}`,
      ({ core }) =>
        core.deleteNamespacedPod(
          { name: at.pod, namespace: this.namespace, body: { gracePeriodSeconds: 0 } },
          timeoutOptions(),
        ),
      true,
    );
  }

  /** The node a process's pod runs on, if it has a pod (running or not). */
  async nodeOf(name: string): Promise<string | undefined> {
    return (await this.getPod(this.locate(name).pod))?.spec?.nodeName;
  }

  /** A StatefulSet's desired replica count (its scale subresource). */
  async replicas(statefulSet: string): Promise<number> {
    const scale = await this.call(`get statefulsets/${statefulSet}/scale`, ({ apps }) =>
      apps.readNamespacedStatefulSetScale({ name: statefulSet, namespace: this.namespace }, timeoutOptions()),
    );
    return scale.spec?.replicas ?? 0;
  }

  /** Set a StatefulSet's desired replica count (a merge patch of its scale subresource, as `kubectl scale`). */
  async scale(statefulSet: string, replicas: number): Promise<void> {
    await this.call(`patch statefulsets/${statefulSet}/scale`, ({ apps }) =>
      apps.patchNamespacedStatefulSetScale(
        { name: statefulSet, namespace: this.namespace, body: { spec: { replicas } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch, timeoutOptions()),
      ),
    );
  }

  async start(name: string): Promise<void> {
    const at = this.locate(name);
    if ((await this.replicas(at.statefulSet)) <= at.ordinal) {
      await this.scale(at.statefulSet, at.ordinal + 1);
    } else {
      const pod = await this.getPod(at.pod);
      if (isRunning(pod)) return;
      if (pod && isBroken(pod)) await this.deletePod(at.pod);
    }
    await this.waitFor(at.pod, "running and ready", isRunning);
  }

  async stop(name: string): Promise<void> {
    const at = this.locate(name);
    const replicas = await this.replicas(at.statefulSet);
    if (replicas <= at.ordinal) {
      // Already scaled below it: at most the pod is still terminating.
      if (isRunning(await this.getPod(at.pod))) await this.waitFor(at.pod, "gone", (pod) => pod === undefined);
      return;
    }
    if (at.ordinal !== replicas - 1)
      throw new Error(
        `Kubernetes cannot stop pod ${at.pod} alone: StatefulSet ${at.statefulSet} runs ${replicas} pods and stops the highest ordinal first`,
      );
    await this.scale(at.statefulSet, at.ordinal);
    await this.waitFor(at.pod, "gone", (pod) => pod === undefined);
  }

  /**
   * Run a one-shot pod to its end (restartPolicy Never) and return its exit status and log; the pod
   * is deleted after. A pod the scheduler cannot place (two ReadWriteOnce claims on different nodes)
   * fails with the scheduler's reason instead of waiting out the timeout.
   */
  async runPod(spec: OneShotPod, timeoutMs = 600_000): Promise<{ succeeded: boolean; log: string }> {
    await this.deletePod(spec.name); // a leftover of an interrupted run
    await this.waitFor(spec.name, "gone", (pod) => pod === undefined, timeoutMs);
    await this.call(`create pods (${spec.name})`, ({ core }) =>
      core.createNamespacedPod({ namespace: this.namespace, body: oneShotPod(spec) }, timeoutOptions()),
    );
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const pod = await this.getPod(spec.name);
        const phase = pod?.status?.phase;
        if (phase === "Succeeded" || phase === "Failed") {
          const log = await this.call(`get pods/${spec.name}/log`, ({ core }) =>
            core.readNamespacedPodLog({ name: spec.name, namespace: this.namespace }, timeoutOptions()),
          );
          return { succeeded: phase === "Succeeded", log };
        }
        const unschedulable = pod?.status?.conditions?.find(
          (c) => c.type === "PodScheduled" && c.reason === "Unschedulable",
        );
        if (unschedulable) throw new Error(`pod ${spec.name} cannot be scheduled: ${unschedulable.message ?? ""}`);
        if (Date.now() >= deadline)
          throw new Error(
            `pod ${spec.name} did not finish within ${Math.round(timeoutMs / 1000)} s (phase ${phase ?? "none"})`,
          );
        await sleep(this.pollIntervalMs);
      }
    } finally {
      await this.deletePod(spec.name).catch(() => undefined);
    }
  }

  private locate(name: string): { name: string; statefulSet: string; ordinal: number; pod: string } {
    const p = this.processes.find((x) => x.name === name);
    if (!p)
      throw new Error(`unknown process ${name}; known processes: ${this.processes.map((x) => x.name).join(", ")}`);
    if (p.statefulSet === undefined || p.ordinal === undefined)
      throw new Error(`process ${name} has no statefulSet/ordinal in the stack file`);
    return { name, statefulSet: p.statefulSet, ordinal: p.ordinal, pod: `${p.statefulSet}-${p.ordinal}` };
  }

  /** A pod, or undefined when there is none. */
  private getPod(name: string): Promise<V1Pod | undefined> {
    return this.call(
      `get pods/${name}`,
      ({ core }) => core.readNamespacedPod({ name, namespace: this.namespace }, timeoutOptions()),
      true,
    );
  }

  /** Delete a pod if there is one. */
  private async deletePod(name: string): Promise<void> {
    await this.call(
      `delete pods/${name}`,
      ({ core }) => core.deleteNamespacedPod({ name, namespace: this.namespace }, timeoutOptions()),
      true,
    );
  }

  private async waitFor(
    pod: string,
    what: string,
    done: (pod: V1Pod | undefined) => boolean,
    timeoutMs = this.timeoutMs,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await this.getPod(pod);
      if (done(current)) return;
      if (Date.now() >= deadline)
        throw new Error(
          `pod ${pod} not ${what} after ${Math.round(timeoutMs / 1000)} s (phase ${current?.status?.phase ?? "none"})`,
        );
      await sleep(this.pollIntervalMs);
    }
  }

  /**
   * One API call, named as RBAC names it (verb and resource, so a 403 points at the Role's missing
   * rule); a 404 is `undefined` when `missingOk`, any other failure an Error with the API's message.
   */
  private call<T>(what: string, fn: (c: { core: CoreV1Api; apps: AppsV1Api }) => Promise<T>): Promise<T>;
  private call<T>(
    what: string,
    fn: (c: { core: CoreV1Api; apps: AppsV1Api }) => Promise<T>,
    missingOk: true,
  ): Promise<T | undefined>;
  private async call<T>(
    what: string,
    fn: (c: { core: CoreV1Api; apps: AppsV1Api }) => Promise<T>,
    missingOk = false,
  ): Promise<T | undefined> {
    if (!this.clients) {
      const kc = kubeConfig(this.api);
      this.clients = { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
    }
    try {
      return await fn(this.clients);
    } catch (err) {
      if (missingOk && err instanceof ApiException && err.code === 404) return undefined;
      throw new Error(`kubernetes ${what} in namespace ${this.namespace}: ${describeFailure(err)}`, { cause: err });
    }
  }
}

/** The Pod object of a one-shot run: restartPolicy Never, the claims mounted, Pod Security "restricted". */
function oneShotPod(spec: OneShotPod): V1Pod {
  const mounts = Object.entries(spec.claims);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: spec.name, labels: { "app.kubernetes.io/name": spec.name } },
    spec: {
      restartPolicy: "Never",
      nodeName: spec.nodeName,
      securityContext: spec.runAs && {
        runAsNonRoot: true,
        runAsUser: spec.runAs.uid,
        runAsGroup: spec.runAs.gid,
        fsGroup: spec.runAs.gid,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "run",
          image: spec.image,
          command: spec.command,
          env: Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
          volumeMounts: mounts.map(([mountPath], i) => ({ name: `v${i}`, mountPath, readOnly: spec.readOnly })),
          // As every pod of the deployment's namespace (infra/targets/kubernetes/pod-security.ts).
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
        },
      ],
      volumes: mounts.map(([, claimName], i) => ({
        name: `v${i}`,
        persistentVolumeClaim: { claimName, readOnly: spec.readOnly },
      })),
    },
  };
}
