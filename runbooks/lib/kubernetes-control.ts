/**
 * ProcessControl on Kubernetes: each stack process is one pod of a StatefulSet, started and stopped
 * through the StatefulSet's scale subresource (or, for a crashed pod, by deleting it so its
 * controller recreates it). Plain HTTPS to the API server with the runbooks pod's service account:
 * no client library. Note: the API StatefulSet's replicas are also driven by KEDA's HPA, which may
 * undo a manual scale.
 */
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import type { ProcessControl, StackProcess } from "./stack-file";

/** Where Kubernetes mounts a pod's service-account token and the cluster CA. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** How to reach the API server: its base URL (https, or http in tests), a bearer token and the CA. */
export interface KubernetesApi {
  server: string;
  /** A bearer token; none behind `kubectl proxy`, which authenticates for its caller. */
  token?: string;
  ca?: Buffer;
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
  /** Without it, the in-cluster configuration (see inClusterApi), read at the first call. */
  api?: KubernetesApi;
  /** How often a wait polls the pod; default 2 s. */
  pollIntervalMs?: number;
  /** How long start/stop wait for the pod; default 180 s. */
  timeoutMs?: number;
}

/** The API as seen from inside a pod: the service env vars and the mounted service-account files. */
export function inClusterApi(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubernetesApi {
  for (const name of ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"])
    if (!env[name]) throw new Error(`in-cluster Kubernetes API: ${name} is not set (run this inside the runbooks pod)`);
  const read = (file: string) => {
    try {
      return fs.readFileSync(path.join(dir, file));
    } catch (err) {
      throw new Error(`in-cluster Kubernetes API: cannot read ${path.join(dir, file)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const host = env.KUBERNETES_SERVICE_HOST!;
  // An IPv6 service address needs brackets in a URL.
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  return {
    server: `https://${hostInUrl}:${env.KUBERNETES_SERVICE_PORT}`,
    token: read("token").toString("utf8").trim(),
    ca: read("ca.crt"),
  };
}

interface Pod {
  metadata?: { deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{ state?: { waiting?: { reason?: string } } }>;
  };
}

/** Serving: Running, Ready, and not on its way out. */
function isRunning(pod: Pod | undefined): boolean {
  if (!pod || pod.metadata?.deletionTimestamp) return false;
  const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  return pod.status?.phase === "Running" && ready;
}

/** Will not come up by itself: failed, or a container backing off. A pod merely starting is not broken. */
function isBroken(pod: Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (["Failed", "Succeeded", "Unknown"].includes(pod.status?.phase ?? "")) return true;
  return (pod.status?.containerStatuses ?? []).some((c) => /BackOff|Err/.test(c.state?.waiting?.reason ?? ""));
}

/** Starts and stops the stack's StatefulSet pods by their local-stack names. */
export class KubernetesControl implements ProcessControl {
  private api?: KubernetesApi;
  private readonly namespace: string;
  private readonly processes: StackProcess[];
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(opts: KubernetesControlOptions) {
    this.namespace = opts.namespace;
    this.processes = opts.processes;
    this.api = opts.api;
    this.pollIntervalMs = opts.pollIntervalMs ?? 2_000;
    this.timeoutMs = opts.timeoutMs ?? 180_000;
  }

  async list(): Promise<Array<{ name: string; running: boolean }>> {
    return Promise.all(
      this.processes.map(async (p) => ({ name: p.name, running: isRunning(await this.getPod(this.locate(p.name))) })),
    );
  }

  /** The node a process's pod runs on, if it has a pod (running or not). */
  async nodeOf(name: string): Promise<string | undefined> {
    return (await this.getPod(this.locate(name)))?.spec?.nodeName;
  }

  /** A StatefulSet's desired replica count (its scale subresource). */
  replicas(statefulSet: string): Promise<number> {
    return this.getReplicas(statefulSet);
  }

  /** Set a StatefulSet's desired replica count. */
  scale(statefulSet: string, replicas: number): Promise<void> {
    return this.setReplicas(statefulSet, replicas);
  }

  async start(name: string): Promise<void> {
    const at = this.locate(name);
    if ((await this.getReplicas(at.statefulSet)) <= at.ordinal) {
      await this.setReplicas(at.statefulSet, at.ordinal + 1);
    } else {
      const pod = await this.getPod(at);
      if (isRunning(pod)) return;
      if (pod && isBroken(pod)) await this.request("DELETE", this.podPath(at));
    }
    await this.waitFor(at, "running and ready", isRunning);
  }

  async stop(name: string): Promise<void> {
    const at = this.locate(name);
    const replicas = await this.getReplicas(at.statefulSet);
    if (replicas <= at.ordinal) {
      // Already scaled below it: at most the pod is still terminating.
      if (isRunning(await this.getPod(at))) await this.waitFor(at, "gone", (pod) => pod === undefined);
      return;
    }
    if (at.ordinal !== replicas - 1)
      throw new Error(
        `Kubernetes cannot stop pod ${at.pod} alone: StatefulSet ${at.statefulSet} runs ${replicas} pods and stops the highest ordinal first`,
      );
    await this.setReplicas(at.statefulSet, at.ordinal);
    await this.waitFor(at, "gone", (pod) => pod === undefined);
  }

  /**
   * Run a one-shot pod to its end (restartPolicy Never) and return its exit status and log; the pod
   * is deleted after. A pod the scheduler cannot place (two ReadWriteOnce claims on different nodes)
   * fails with the scheduler's reason instead of waiting out the timeout.
   */
  async runPod(spec: OneShotPod, timeoutMs = 600_000): Promise<{ succeeded: boolean; log: string }> {
    const podsPath = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
    const at = { pod: spec.name };
    await this.request("DELETE", this.podPath(at), undefined, true); // a leftover of an interrupted run
    await this.waitForGone(at, timeoutMs);
    const mounts = Object.entries(spec.claims);
    await this.request("POST", podsPath, {
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
            // Pod Security "restricted", as every pod of the deployment's namespace (infra/kubernetes/pod-security.ts).
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
    });
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const pod = await this.getPod(at);
        const phase = pod?.status?.phase;
        if (phase === "Succeeded" || phase === "Failed") {
          const log = (await this.request("GET", `${this.podPath(at)}/log`, undefined, false, true)) as string;
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
        await new Promise((r) => setTimeout(r, this.pollIntervalMs));
      }
    } finally {
      await this.request("DELETE", this.podPath(at), undefined, true).catch(() => undefined);
    }
  }

  private async waitForGone(at: { pod: string }, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.getPod(at)) !== undefined) {
      if (Date.now() >= deadline) throw new Error(`pod ${at.pod} still exists after ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, this.pollIntervalMs));
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

  private podPath(at: { pod: string }): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(at.pod)}`;
  }

  private scalePath(statefulSet: string): string {
    return `/apis/apps/v1/namespaces/${encodeURIComponent(this.namespace)}/statefulsets/${encodeURIComponent(statefulSet)}/scale`;
  }

  private async getPod(at: { pod: string }): Promise<Pod | undefined> {
    const res = await this.request("GET", this.podPath(at), undefined, true);
    return res === undefined ? undefined : (res as Pod);
  }

  private async getReplicas(statefulSet: string): Promise<number> {
    const scale = (await this.request("GET", this.scalePath(statefulSet))) as { spec?: { replicas?: number } };
    return scale.spec?.replicas ?? 0;
  }

  private async setReplicas(statefulSet: string, replicas: number): Promise<void> {
    await this.request("PATCH", this.scalePath(statefulSet), { spec: { replicas } });
  }

  private async waitFor(at: { pod: string }, what: string, done: (pod: Pod | undefined) => boolean): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const pod = await this.getPod(at);
      if (done(pod)) return;
      if (Date.now() >= deadline)
        throw new Error(
          `pod ${at.pod} not ${what} after ${Math.round(this.timeoutMs / 1000)} s (phase ${pod?.status?.phase ?? "none"})`,
        );
      await new Promise((r) => setTimeout(r, this.pollIntervalMs));
    }
  }

  /** One API call; a 404 is `undefined` when `missingOk`, any other non-2xx an Error with the API's message. */
  private request(method: string, apiPath: string, body?: unknown, missingOk = false, raw = false): Promise<unknown> {
    this.api ??= inClusterApi();
    const api = this.api;
    const url = new URL(apiPath, api.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (api.token) headers.Authorization = `Bearer ${api.token}`;
    if (payload !== undefined) {
      headers["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const client = url.protocol === "http:" ? http : https;
    return new Promise((resolve, reject) => {
      const req = client.request(url, { method, headers, ca: api.ca, timeout: 30_000 }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : {};
          } catch {
            json = { message: text };
          }
          if (status >= 200 && status < 300) return resolve(raw ? text : json);
          if (status === 404 && missingOk) return resolve(undefined);
          const message = (json as { message?: string }).message ?? text;
          reject(new Error(`kubernetes ${method} ${apiPath}: HTTP ${status}: ${message}`));
        });
      });
      req.on("timeout", () => req.destroy(new Error(`kubernetes ${method} ${apiPath}: timed out`)));
      req.on("error", reject);
      req.end(payload);
    });
  }
}
