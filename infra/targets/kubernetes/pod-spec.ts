import { createHash } from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import { memoryLimitMb, type MemoryRole, type Topology } from "../../topology";

type Container = k8s.types.input.core.v1.Container;

/** Labels of one component's pods; the name label alone is the selector. */
export function podLabels(component: string): Record<string, string> {
  return { "app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "floodgate" };
}

/** The data stores a NetworkPolicy guards; a pod reaches one only when it carries its client label. */
export type DataStore = "mysql" | "redis" | "rabbitmq" | "bucket";

/** The label that lets a pod through a data store's NetworkPolicy. */
export function clientLabels(...stores: DataStore[]): Record<string, string> {
  return Object.fromEntries(stores.map((s) => [`floodgate.dev/${s}-client`, "true"]));
}

/** A NetworkPolicy spec for the store's pods (`selector`): reachable from each other and from labelled clients only. */
export function dataStorePolicy(
  store: DataStore,
  selector: Record<string, string>,
): k8s.types.input.networking.v1.NetworkPolicySpec {
  return {
    podSelector: { matchLabels: selector },
    policyTypes: ["Ingress"],
    ingress: [
      { from: [{ podSelector: { matchLabels: clientLabels(store) } }, { podSelector: { matchLabels: selector } }] },
    ],
  };
}

/** CPU in millicores and memory in MiB, requested and limited. */
export interface Size {
  cpuMilli: [request: number, limit: number];
  memoryMi: [request: number, limit: number];
}

/** Every kind of pod the program runs (Docker alone runs an autoscaler and a runbooks container). */
export type Workload = Exclude<MemoryRole, "autoscaler" | "runbooks">;

/** CPU request and limit (millicores) and memory request (MiB) of each workload: Kubernetes' own. */
function requests(t: Topology, w: Workload): { cpuMilli: [number, number]; memoryRequestMi: number } {
  switch (w) {
    // The buffer pool stays resident, so the scheduler must find room for it and the server.
    case "mysql":
      return { cpuMilli: [500, 2000], memoryRequestMi: t.mysql.bufferPoolMb + 256 };
    case "redis":
      return { cpuMilli: [250, 1000], memoryRequestMi: t.redis.maxMemoryMb + 64 };
    case "api":
      return { cpuMilli: [500, 2000], memoryRequestMi: 256 };
    case "worker":
    case "tracker":
      return { cpuMilli: [200, 1000], memoryRequestMi: 192 };
    case "nginx":
      return { cpuMilli: [250, 2000], memoryRequestMi: 128 };
    case "rabbitmq":
      return { cpuMilli: [500, 2000], memoryRequestMi: 512 };
    case "prometheus":
      return { cpuMilli: [250, 1000], memoryRequestMi: 512 };
    case "bucket":
    case "job":
      return { cpuMilli: [100, 1000], memoryRequestMi: 128 };
    case "backups":
      return { cpuMilli: [100, 1000], memoryRequestMi: 384 };
    case "alertmanager":
    case "exporter":
    case "sidecar":
      return { cpuMilli: [50, 250], memoryRequestMi: 32 };
  }
}

/** Requests and limits per workload; memory limits from the one table every target reads (memoryLimitMb). */
export function sizeOf(t: Topology, w: Workload): Size {
  const { cpuMilli, memoryRequestMi } = requests(t, w);
  const limitMi = memoryLimitMb(t, w);
  return { cpuMilli, memoryMi: [Math.min(memoryRequestMi, limitMi), limitMi] };
}

/** A Size as Kubernetes resource requirements. */
export function resources(size: Size): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: `${size.cpuMilli[0]}m`, memory: `${size.memoryMi[0]}Mi` },
    limits: { cpu: `${size.cpuMilli[1]}m`, memory: `${size.memoryMi[1]}Mi` },
  };
}

/**
 * Readiness and liveness probes on HTTP endpoints; liveness is slower, so a busy pod leaves rotation
 * before it is killed. A process whose readiness looks at shared dependencies passes its own
 * `livenessPath`: a dependency's outage must never restart every pod.
 */
export function httpProbes(
  path: string,
  port: number,
  livenessPath = path,
): Pick<Container, "readinessProbe" | "livenessProbe"> {
  return {
    readinessProbe: { httpGet: { path, port }, periodSeconds: 2, failureThreshold: 2, timeoutSeconds: 1 },
    livenessProbe: {
      httpGet: { path: livenessPath, port },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      failureThreshold: 3,
      timeoutSeconds: 2,
    },
  };
}

/** Probes for a server that speaks no HTTP: ready when `command` succeeds, alive while the port accepts. */
export function commandProbes(
  command: string[],
  port: number,
  livenessDelaySeconds = 30,
): Pick<Container, "readinessProbe" | "livenessProbe"> {
  return {
    readinessProbe: { exec: { command }, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 10 },
    livenessProbe: {
      tcpSocket: { port },
      initialDelaySeconds: livenessDelaySeconds,
      periodSeconds: 10,
      failureThreshold: 6,
    },
  };
}

/** A volume claim template on the deployment's storage class. */
export function volumeClaim(
  name: string,
  storageClass: string,
  gi: number,
): k8s.types.input.core.v1.PersistentVolumeClaim {
  return {
    metadata: { name },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: storageClass,
      resources: { requests: { storage: `${gi}Gi` } },
    },
  };
}

/** A digest of a rendered file, put on a pod template so a changed file rolls the pods that read it at start. */
export function configChecksum(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Readiness and liveness on a TCP port, for servers with no health endpoint the kubelet may call. */
export function tcpProbes(port: number): Pick<Container, "readinessProbe" | "livenessProbe"> {
  return {
    readinessProbe: { tcpSocket: { port }, periodSeconds: 2, failureThreshold: 2 },
    livenessProbe: { tcpSocket: { port }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 },
  };
}
