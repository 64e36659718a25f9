import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

type PodSpec = k8s.types.input.core.v1.PodSpec;

/** The node label every kubelet sets: pods apart by it are on different machines. */
export const NODE_KEY = "kubernetes.io/hostname";
/** The well-known zone label cloud providers set; absent on a single-zone or bare cluster. */
export const ZONE_KEY = "topology.kubernetes.io/zone";

/**
 * The label naming a group of pods that must not share a node: one store's servers (a MariaDB
 * primary and its replicas), one Redis shard (a master and its own replicas), one StatefulSet of
 * RabbitMQ nodes, or one stateless component's replicas.
 */
export const GROUP_LABEL = "floodgate.dev/availability-group";

/** The pod labels that put a pod in `group`. */
export function groupLabels(group: string): Record<string, string> {
  return { [GROUP_LABEL]: group };
}

/**
 * How a group's pods are placed:
 * - "hard": never two on one node (required anti-affinity), as Bitnami's charts do with
 *   `podAntiAffinityPreset: hard`; a group larger than the node count leaves pods Pending, which is
 *   the honest outcome for a store whose copies must not share a machine.
 * - "soft": spread over nodes where the scheduler can (stateless replicas outnumber nodes).
 * Either way the group spreads over zones where nodes carry a zone label: as a preference, so a
 * cluster without zones (k3s, kind, one-zone node pools) still schedules.
 */
export type Placement = "hard" | "soft";

/** The affinity and spread constraints for one group's pods (merge into the pod spec). */
export function placement(group: string, mode: Placement): Pick<PodSpec, "affinity" | "topologySpreadConstraints"> {
  const selector = { matchLabels: groupLabels(group) };
  const apart = { labelSelector: selector, topologyKey: NODE_KEY };
  return {
    affinity: {
      podAntiAffinity:
        mode === "hard"
          ? { requiredDuringSchedulingIgnoredDuringExecution: [apart] }
          : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: apart }] },
    },
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: ZONE_KEY, whenUnsatisfiable: "ScheduleAnyway", labelSelector: selector },
      ...(mode === "soft"
        ? [{ maxSkew: 1, topologyKey: NODE_KEY, whenUnsatisfiable: "ScheduleAnyway" as const, labelSelector: selector }]
        : []),
    ],
  };
}

/**
 * A PodDisruptionBudget over one group: a drain evicts at most one of its pods at a time, so a
 * store never loses a server and its copy together, and a quorum of three keeps two.
 */
export function disruptionBudget(
  name: string,
  group: string,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): k8s.policy.v1.PodDisruptionBudget {
  return new k8s.policy.v1.PodDisruptionBudget(
    name,
    {
      metadata: { name: group, namespace },
      spec: { maxUnavailable: 1, selector: { matchLabels: groupLabels(group) } },
    },
    opts,
  );
}

/**
 * Volumes outlive their StatefulSet: a claim made from a template is kept when the set is deleted
 * or scaled down (Kubernetes' own default, stated so a later default cannot change it), and
 * `pulumi destroy` leaves every claim the program created unless the operator set
 * `floodgate:kubernetesDeleteVolumes` (see retainVolumes).
 */
export const KEEP_CLAIMS: k8s.types.input.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy = {
  whenDeleted: "Retain",
  whenScaled: "Retain",
};

/**
 * Resource options for what holds data outside a StatefulSet (the namespace, whose deletion would
 * take every claim in it, and claims the program makes itself): `pulumi destroy` leaves them in the
 * cluster unless the stack sets `floodgate:kubernetesDeleteVolumesOnDestroy`. Pulumi's
 * `retainOnDelete` rather than `protect`, so a destroy still succeeds and removes everything else.
 */
export function keepOnDestroy(cfg: { kubernetes: { deleteVolumesOnDestroy: boolean } }): pulumi.CustomResourceOptions {
  return { retainOnDelete: !cfg.kubernetes.deleteVolumesOnDestroy };
}
