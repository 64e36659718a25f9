import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { memoryLimitMb, type MemoryRole, type Topology } from "../../topology";

/** Kinds of container the Docker target runs; each has one resource budget (Kubernetes alone runs sidecars). */
export type ContainerRole = Exclude<MemoryRole, "sidecar">;

/** Memory limit (MiB) and CPU limit (cores) of one container. */
export interface ContainerSize {
  memoryMb: number;
  cpus: number;
}

/** CPU limit (cores) of each role. */
const CPUS: Record<ContainerRole, number> = {
  mysql: 2,
  redis: 1,
  rabbitmq: 1,
  prometheus: 1,
  api: 1,
  nginx: 1,
  worker: 1,
  tracker: 1,
  bucket: 1,
  backups: 1,
  runbooks: 1,
  alertmanager: 0.5,
  autoscaler: 0.5,
  job: 0.5,
  exporter: 0.25,
};

/** The budget of each role: memory from the one table every target reads (memoryLimitMb), CPU Docker's own. */
export function containerSize(role: ContainerRole, t: Topology): ContainerSize {
  return { memoryMb: memoryLimitMb(t, role), cpus: CPUS[role] };
}

/**
 * Work that may lag behind a burst — queue workers, the tracker, backups — gets a quarter of the
 * default CPU weight, so under contention the host serves the processes a client waits on first
 * (the local stack runs the same roles niced; Kubernetes gives them smaller CPU requests).
 */
const BACKGROUND_ROLES: ReadonlySet<ContainerRole> = new Set(["worker", "tracker", "backups"]);

/** The Container args that apply a role's budget. */
export function limits(
  role: ContainerRole,
  t: Topology,
): Pick<docker.ContainerArgs, "memory" | "memorySwap" | "cpus" | "cpuShares"> {
  const { memoryMb, cpus } = containerSize(role, t);
  // memorySwap = memory: no swap, so a leak is an OOM kill and a restart, not a slow host.
  return {
    memory: memoryMb,
    memorySwap: memoryMb,
    cpus: String(cpus),
    cpuShares: BACKGROUND_ROLES.has(role) ? 256 : 1024,
  };
}

/**
 * How often a container's healthcheck runs: every 10 s. Each probe is an exec in the container,
 * which costs the Engine about 0.12 s of CPU on the machines CI runs on (measured with Docker 20.10:
 * ten containers probed every second kept 1.1 cores busy), so ~30 containers probed every 10 s
 * already take a third of a core. A shorter interval would make each link of `pulumi up`'s chain of
 * waits shorter (Docker 20.10 runs the first probe one interval after the start; Docker 25's
 * `startInterval` fixes that, but a client that sets it cannot create containers on an Engine older
 * than API 1.44, as Debian 12's is) at that price.
 */
const HEALTH_INTERVAL_SECONDS = 10;

/** The timing every healthcheck shares. */
function healthTiming(startPeriodSeconds: number) {
  return {
    interval: `${HEALTH_INTERVAL_SECONDS}s`,
    timeout: "5s",
    retries: 3,
    startPeriod: `${startPeriodSeconds}s`,
  };
}

/** A Docker healthcheck running `command` in the container's shell. */
export function healthcheck(command: string, startPeriodSeconds = 10): docker.types.input.ContainerHealthcheck {
  return { tests: ["CMD-SHELL", command], ...healthTiming(startPeriodSeconds) };
}

/**
 * A bash script (argv-safe: run as `bash -c <script>`, no shell quoting) that GETs a local HTTP path
 * over /dev/tcp and succeeds when the status is `status`: the Debian-built images carry bash but no
 * HTTP client. HTTP/1.0, so the server closes the connection; `read -t` bounds a silent server.
 */
export function bashHttpProbe(port: number, path: string, status = 200): string {
  return [
    `exec 3<>/dev/tcp/127.0.0.1/${port}`,
    `printf 'GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3`,
    "read -r -t 4 _ code _ <&3",
    `[ "$code" = ${status} ]`,
  ].join(" && ");
}

/**
 * A healthcheck that GETs a local HTTP path with bash's /dev/tcp (every Debian-built image, the
 * services image too); the status must be `status`. A probe that started Node to fetch the path cost
 * 0.21 s of CPU where bash's costs 0.12 s (Docker 20.10, the exec included): across the services'
 * containers, bash saves about 7% of a core.
 */
export function httpHealthcheck(
  port: number,
  path: string,
  startPeriodSeconds = 10,
  status = 200,
): docker.types.input.ContainerHealthcheck {
  return {
    tests: ["CMD", "bash", "-c", bashHttpProbe(port, path, status)],
    ...healthTiming(startPeriodSeconds),
  };
}

/** Settings every long-running container shares: restarted by Docker, waited for until healthy. */
export const LONG_RUNNING = { restart: "unless-stopped", mustRun: true, wait: true, waitTimeout: 180 } as const;

/** Settings of a one-shot job: Pulumi waits for it to exit (attach); `oneShotJob` fails the update on a non-zero exit. */
export const ONE_SHOT = { restart: "no", mustRun: false, attach: true, logs: true } as const;

/** A container's one attachment to the private network. */
type NetworkAttachment = { name: pulumi.Input<string>; aliases: string[]; ipv4Address?: string };

/** Attachment to the private network, under the container's name, optionally at a fixed address. */
export function onNetwork(network: pulumi.Input<string>, alias: string, ipv4Address?: string): [NetworkAttachment] {
  return [{ name: network, aliases: [alias], ...(ipv4Address ? { ipv4Address } : {}) }];
}
