import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { hostPort, type Addresses, type Topology, NAMES } from "../../topology";
import type { DeployConfig } from "../../deployment";
import type { KubernetesContext } from "./context";

/** The API's p99 latency in milliseconds over the last minute, from the replicas' own histogram. */
export function apiP99MsQuery(): string {
  return '1000 * histogram_quantile(0.99, sum by (le) (rate(floodgate_http_request_duration_seconds_bucket{job="api"}[1m])))';
}

/**
 * The KEDA ScaledObject spec: KEDA turns it into a HorizontalPodAutoscaler (autoscaling/v2) on the
 * API StatefulSet with a CPU utilisation metric and the p99 latency from our Prometheus.
 */
export function scaledObjectSpec(t: Topology, a: Addresses): Record<string, unknown> {
  const s = t.autoscaling;
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name: NAMES.api },
    minReplicaCount: s.minReplicas,
    maxReplicaCount: s.maxReplicas,
    advanced: {
      horizontalPodAutoscalerConfig: {
        name: NAMES.api,
        behavior: {
          // Scale in only after the load has stayed low for the cooldown; scale out at once.
          scaleDown: { stabilizationWindowSeconds: s.cooldownSeconds },
          scaleUp: { stabilizationWindowSeconds: 0 },
        },
      },
    },
    triggers: [
      { type: "cpu", metricType: "Utilization", metadata: { value: String(s.scaleOutCpuPercent) } },
      {
        type: "prometheus",
        // A latency is not shared out among replicas: compare it as a whole, not per pod.
        metricType: "Value",
        metadata: {
          serverAddress: `http://${hostPort(a.prometheus)}`,
          query: apiP99MsQuery(),
          threshold: String(s.scaleOutP99Ms),
        },
      },
    ],
  };
}

/** What Autoscaling reads: Prometheus's address, the namespace, the topology's bounds and the StatefulSet it scales. */
export interface AutoscalingArgs extends Pick<KubernetesContext, "addresses" | "namespace"> {
  cfg: Pick<DeployConfig, "topology">;
  /** The API StatefulSet (ApiCluster.scaleTarget): the ScaledObject is created after it. */
  target: pulumi.Resource;
}

/** Autoscaling of the API replicas through KEDA (its operator is a cluster prerequisite). */
export class Autoscaling extends pulumi.ComponentResource {
  constructor(name: string, args: AutoscalingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:Autoscaling", name, {}, opts);
    new k8s.apiextensions.CustomResource(
      `${name}-api`,
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: { name: NAMES.api, namespace: args.namespace },
        spec: scaledObjectSpec(args.cfg.topology, args.addresses),
      },
      { parent: this, dependsOn: [args.target] },
    );
    this.registerOutputs({});
  }
}
