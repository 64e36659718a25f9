import type * as k8s from "@pulumi/kubernetes";
import { SCRATCH_PREFIX, scratchName } from "./image-users";

type PodSpec = k8s.types.input.core.v1.PodSpec;
type Container = k8s.types.input.core.v1.Container;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/** What every pod of a deployment shares (from the stack config). */
export interface PodDefaults {
  /** An image pull Secret in the namespace, for a private registry. */
  imagePullSecret?: string;
}

/** A container with /tmp on an emptyDir when its root filesystem is read-only (and /tmp is not mounted). */
function withTmp(c: Container): Container {
  const ctx = c.securityContext as k8s.types.input.core.v1.SecurityContext | undefined;
  const mounts = (c.volumeMounts ?? []) as VolumeMount[];
  if (ctx?.readOnlyRootFilesystem !== true || mounts.some((m) => m.mountPath === "/tmp")) return c;
  return { ...c, volumeMounts: [...mounts, { name: scratchName("/tmp"), mountPath: "/tmp" }] };
}

/**
 * The pod spec as the program runs it, whoever wrote it: no service-account token unless the pod
 * names a service account (only RabbitMQ's peer discovery calls the Kubernetes API); the pull
 * Secret, when the stack names one; /tmp for every read-only container; and an emptyDir behind
 * every scratch mount (image-users.ts, SCRATCH_PATHS) the pod does not already have a volume for.
 */
export function finishPodSpec(spec: PodSpec, defaults: PodDefaults): PodSpec {
  const containers = (spec.containers as Container[]).map(withTmp);
  const initContainers =
    spec.initContainers === undefined ? undefined : (spec.initContainers as Container[]).map(withTmp);
  const volumes = (spec.volumes ?? []) as k8s.types.input.core.v1.Volume[];
  const have = new Set(volumes.map((v) => v.name));
  const scratch = [...containers, ...(initContainers ?? [])]
    .flatMap((c) => (c.volumeMounts ?? []) as VolumeMount[])
    .map((m) => m.name as string)
    .filter((name) => name.startsWith(SCRATCH_PREFIX) && !have.has(name));
  const added = [...new Set(scratch)].map((name) => ({ name, emptyDir: {} }));
  return {
    ...(spec.serviceAccountName === undefined ? { automountServiceAccountToken: false } : {}),
    ...(defaults.imagePullSecret ? { imagePullSecrets: [{ name: defaults.imagePullSecret }] } : {}),
    ...spec,
    containers,
    ...(initContainers ? { initContainers } : {}),
    ...(volumes.length + added.length > 0 ? { volumes: [...volumes, ...added] } : {}),
  };
}
