import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { hostPort, type Addresses, type Topology, NAMES } from "../../topology";
import { envList } from "./app-env";
import { appCommand } from "./api-cluster";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import type { DeployConfig } from "../../deployment";
import { PATHS, type DockerContext } from "./context";

/** The autoscaler's environment: bounds and cooldown from the topology, the API slots it may start and stop. */
export function autoscalerEnv(t: Topology, a: Addresses, apiContainers: string[]): string[] {
  const s = t.autoscaling;
  return envList({
    HTTP_PORT: String(t.autoscaling.port),
    AUTOSCALE_TARGET: "docker",
    AUTOSCALE_MIN_REPLICAS: String(s.minReplicas),
    AUTOSCALE_MAX_REPLICAS: String(s.maxReplicas),
    AUTOSCALE_COOLDOWN_SECONDS: String(s.cooldownSeconds),
    AUTOSCALE_SCALE_OUT_CPU_PERCENT: String(s.scaleOutCpuPercent),
    AUTOSCALE_SCALE_IN_CPU_PERCENT: String(s.scaleInCpuPercent),
    AUTOSCALE_SCALE_OUT_P99_MS: String(s.scaleOutP99Ms),
    AUTOSCALE_API_CONTAINERS: apiContainers.join(","),
    // nginx's upstream follows the running slots: the actuator rewrites this file and reloads nginx.
    AUTOSCALE_API_ADDRESSES: a.api.map(hostPort).join(","),
    AUTOSCALE_NGINX_CONTAINER: NAMES.nginx,
    AUTOSCALE_NGINX_UPSTREAM_FILE: PATHS.nginxApiUpstream,
    PROMETHEUS_URL: `http://${hostPort(a.prometheus)}`,
  });
}

/** What Autoscaler reads: the addresses, the network, the topology's bounds, the app image and the slots it scales. */
export interface AutoscalerArgs extends Pick<DockerContext, "addresses" | "network"> {
  cfg: Pick<DeployConfig, "topology">;
  images: Pick<DockerContext["images"], "app">;
  /** Names of every API slot container, in slot order. */
  apiContainers: string[];
  /** What must run first: Prometheus, which it queries, and the API slots. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * The autoscaler service (services/src/main/autoscaler.ts from the app image): reads Prometheus and
 * starts or stops the pre-created API slots within min/max, waiting the cooldown between steps.
 */
export class Autoscaler extends pulumi.ComponentResource {
  constructor(name: string, args: AutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:Autoscaler", name, {}, opts);
    const t = args.cfg.topology;
    new docker.Container(
      `${name}-service`,
      {
        name: NAMES.autoscaler,
        image: args.images.app,
        command: appCommand("autoscaler"),
        envs: autoscalerEnv(t, args.addresses, args.apiContainers),
        // Starting and stopping containers needs the Docker API: root-equivalent, so nothing else gets it.
        volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }],
        // The socket belongs to root:docker; the app image runs as a non-root user.
        user: "root",
        networksAdvanced: onNetwork(args.network, NAMES.autoscaler),
        healthcheck: httpHealthcheck(t.autoscaling.port, "/health", 30),
        ...limits("autoscaler", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.dependsOn },
    );
    // Nothing depends on a part of it: the Redis rotation's finishing job waits for the whole component.
    this.registerOutputs({});
  }
}
