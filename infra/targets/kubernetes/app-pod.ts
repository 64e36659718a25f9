import type * as k8s from "@pulumi/kubernetes";
import type { DeployConfig } from "../../deployment";
import { serviceEnv, type Topology } from "../../topology";
import { appCommand, podEnv, type PodEnv } from "./app-env";
import { groupLabels, placement } from "./availability";
import { PATHS, type KubernetesContext } from "./context";
import { runAsImageUser } from "./image-users";
import {
  clientLabels,
  configChecksum,
  httpProbes,
  podLabels,
  resources,
  sizeOf,
  type DataStore,
  type Workload,
} from "./pod-spec";

type PodTemplate = k8s.types.input.core.v1.PodTemplateSpec;
type Container = k8s.types.input.core.v1.Container;

/** The Secret every floodgate service pod reads its secret variables from. */
export const APP_SECRET = "app-secrets";

/** One floodgate service process kind: its entry point, port, health paths and size. */
export interface AppProcess {
  component: string;
  entry: string;
  port: number;
  /** The readiness path (and the liveness path unless livenessPath is given). */
  healthPath: string;
  /** A liveness path of its own, for a process whose readiness depends on shared servers. */
  livenessPath?: string;
  workload: Workload;
  /** The stores the process connects to: its pods carry their client labels, and no other. */
  stores: DataStore[];
  concurrency?: number;
  /** Variables added to (or replacing) the service environment, e.g. the migrator's credentials. */
  extraEnv?: (t: Topology) => Record<string, string>;
}

/** The pod environment of one process kind, secrets referenced from APP_SECRET. */
export function appProcessEnv(
  ctx: Pick<KubernetesContext, "addresses"> & { cfg: Pick<DeployConfig, "topology"> },
  p: AppProcess,
): PodEnv {
  const paths = { staticDir: PATHS.staticDir, staticBaseUrl: "/static/" };
  const instance = { id: p.component, host: "0.0.0.0", port: p.port, concurrency: p.concurrency };
  const { env, secretKeys } = podEnv(
    ctx.cfg.topology,
    (t) => ({ ...serviceEnv(t, ctx.addresses, instance, paths), ...p.extraEnv?.(t) }),
    APP_SECRET,
  );
  // Each pod reports under its own name, so metrics and logs of replicas stay apart.
  const withPodName = env.map((e) =>
    e.name === "INSTANCE_ID" ? { name: e.name, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } } : e,
  );
  return { env: withPodName, secretKeys };
}

/**
 * A pod template running one floodgate process from the app image, with probes, limits and its
 * data-store access. A long-running process's replicas are one availability group spread over
 * nodes and zones where the scheduler can (softly: replicas may outnumber nodes).
 */
export function appPodTemplate(
  ctx: Pick<KubernetesContext, "addresses" | "podSecrets"> & { cfg: Pick<DeployConfig, "topology" | "images"> },
  p: AppProcess,
  opts: { sidecars?: Container[]; oneShot?: boolean } = {},
): PodTemplate {
  const t = ctx.cfg.topology;
  const { env } = appProcessEnv(ctx, p);
  return ctx.podSecrets.template({
    metadata: {
      labels: {
        ...podLabels(p.component),
        ...clientLabels(...p.stores),
        ...(opts.oneShot ? {} : groupLabels(p.component)),
      },
    },
    spec: {
      ...(opts.oneShot ? {} : placement(p.component, "soft")),
      // A Job's pod reruns on failure; a server's pod is restarted by its controller.
      restartPolicy: opts.oneShot ? "OnFailure" : "Always",
      // Longer than the drain: the process answers until nginx's idle keep-alives have closed.
      terminationGracePeriodSeconds: t.nginx.upstreamKeepaliveSeconds + 30,
      containers: [
        {
          name: p.component,
          image: ctx.cfg.images.app,
          command: appCommand(p.entry),
          env,
          ports: [{ name: "http", containerPort: p.port }],
          resources: resources(sizeOf(t, p.workload)),
          securityContext: runAsImageUser("app"),
          // A one-shot process serves no health endpoint.
          ...(opts.oneShot ? {} : httpProbes(p.healthPath, p.port, p.livenessPath)),
          volumeMounts: [{ name: "static", mountPath: PATHS.staticDir }],
        },
        ...(opts.sidecars ?? []),
      ],
      volumes: [{ name: "static", emptyDir: {} }],
    },
  });
}

/**
 * The migration Job's name, derived from the app image so each new version runs its migrations
 * once (a new name is a new Job) and re-running `pulumi up` on the same version does not.
 */
export function migrationJobName(image: string): string {
  const [, digest] = image.split("@");
  const tag = digest ?? image.split("/").pop()?.split(":")[1] ?? "latest";
  const slug = tag
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32);
  return `migrate-${slug ? `${slug}-` : ""}${configChecksum(image).slice(0, 8)}`;
}
