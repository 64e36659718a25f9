import type * as k8s from "@pulumi/kubernetes";
import { IMAGE_USERS } from "../../config";

/** A Debian-built image, by its key in Images (every key but the object store). */
export type BuiltImage = keyof typeof IMAGE_USERS;

/**
 * Where each image's processes write outside the volumes their pods mount (the layouts documented
 * in images/Dockerfile): an emptyDir each, so the root filesystem stays read-only. /tmp is given to
 * every read-only container (finishPodSpec). RabbitMQ is the one image left writable: the broker
 * and its CLI tools write under /etc/rabbitmq and the Erlang runtime's own folders, which its
 * image chowns for that reason.
 */
export const SCRATCH_PATHS: Partial<Record<BuiltImage, string[]>> = {
  mariadb: ["/run/mysqld"],
  nginx: ["/var/cache/nginx", "/var/lib/nginx"],
};

/** The images whose containers keep a writable root filesystem (see SCRATCH_PATHS). */
export const WRITABLE_ROOT_IMAGES: readonly BuiltImage[] = ["rabbitmq"];

/**
 * A container's security context, Pod Security "restricted": the image's own user by its fixed ids
 * (IMAGE_USERS), so the kubelet can check runAsNonRoot without trusting the image's USER name;
 * nothing gained beyond it (every port is above 1024, so no capability is needed); the runtime's
 * default seccomp profile; and a read-only root filesystem unless the image is in
 * WRITABLE_ROOT_IMAGES (the pod then mounts scratch volumes: scratchMounts).
 */
export function runAsImageUser(image: BuiltImage): k8s.types.input.core.v1.SecurityContext {
  const { uid, gid } = IMAGE_USERS[image];
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
    readOnlyRootFilesystem: !WRITABLE_ROOT_IMAGES.includes(image),
  };
}

/** The prefix of every scratch volume's name: finishPodSpec gives each mount so named an emptyDir. */
export const SCRATCH_PREFIX = "scratch";

/** The volume name of a scratch path: the prefix and the path's folders joined by dashes. */
export const scratchName = (path: string) => `${SCRATCH_PREFIX}${path.replace(/[^a-z0-9]+/g, "-")}`.replace(/-+$/, "");

/** The emptyDir mounts of `image`'s SCRATCH_PATHS (finishPodSpec adds /tmp and the volumes). */
export function scratchMounts(image: BuiltImage): k8s.types.input.core.v1.VolumeMount[] {
  return (SCRATCH_PATHS[image] ?? []).map((mountPath) => ({ name: scratchName(mountPath), mountPath }));
}
/**
 * The pod's security context when its volumes belong to `image`'s server: a new volume is created
 * root-owned, and fsGroup gives it to the server's group (checked again only when the root of the
 * volume does not match, so a large data volume is not re-chowned on every start).
 */
export function volumesOwnedBy(image: BuiltImage): k8s.types.input.core.v1.PodSecurityContext {
  const { uid, gid } = IMAGE_USERS[image];
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}
