import { createHash } from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import type { Topology } from "../topology";

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

/** Every kind of pod the program runs. */
export type Workload =
  | "backups"
  | "nginx"
  | "api"
  | "worker"
  | "tracker"
  | "job"
  | "mysql"
  | "redis"
  | "rabbitmq"
  | "bucket"
  | "prometheus"
  | "alertmanager"
  | "exporter"
  | "sidecar";

/** Requests and limits per workload; the stores' memory follows the topology's own memory settings. */
export function sizeOf(t: Topology, w: Workload): Size {
  switch (w) {
    // The buffer pool plus connections and per-thread buffers; a limit below that would OOM-kill mysqld.
    case "mysql":
      return {
        cpuMilli: [500, 2000],
        memoryMi: [t.mysql.bufferPoolMb + 256, Math.ceil(t.mysql.bufferPoolMb * 1.5) + 512],
      };
    // An AOF rewrite forks, and copy-on-write can double the data set at worst.
    case "redis":
      return { cpuMilli: [250, 1000], memoryMi: [t.redis.maxMemoryMb + 64, t.redis.maxMemoryMb * 2 + 128] };
    case "api":
      return { cpuMilli: [500, 2000], memoryMi: [256, 768] };
    case "worker":
    case "tracker":
      return { cpuMilli: [200, 1000], memoryMi: [192, 512] };
    case "nginx":
      return { cpuMilli: [250, 2000], memoryMi: [128, 512] };
    case "rabbitmq":
      return { cpuMilli: [500, 2000], memoryMi: [512, 2048] };
    case "prometheus":
      return { cpuMilli: [250, 1000], memoryMi: [512, 2048] };
    case "bucket":
      return { cpuMilli: [100, 1000], memoryMi: [128, 512] };
    case "job":
      return { cpuMilli: [100, 1000], memoryMi: [128, 512] };
    // Streams dumps, and runs the restore drill's scratch MariaDB (a 64 MiB buffer pool) beside it.
    case "backups":
      return { cpuMilli: [100, 1000], memoryMi: [384, 1024] };
    case "alertmanager":
    case "exporter":
    case "sidecar":
      return { cpuMilli: [50, 250], memoryMi: [32, 128] };
  }
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
