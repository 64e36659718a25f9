import type * as k8s from "@pulumi/kubernetes";
import { IMAGE_USERS } from "../config";

/** A Debian-built image, by its key in Images (every key but the object store). */
export type BuiltImage = keyof typeof IMAGE_USERS;

/**
 * A container's security context: the image's own user by its fixed ids (IMAGE_USERS), so the
 * kubelet can check runAsNonRoot without trusting the image's USER name, and nothing gained beyond
 * it (every port is above 1024, so no capability is needed).
 */
export function runAsImageUser(image: BuiltImage): k8s.types.input.core.v1.SecurityContext {
  const { uid, gid } = IMAGE_USERS[image];
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  };
}

/**
 * The pod's security context when its volumes belong to `image`'s server: a new volume is created
 * root-owned, and fsGroup gives it to the server's group (checked again only when the root of the
 * volume does not match, so a large data volume is not re-chowned on every start).
 */
export function volumesOwnedBy(image: BuiltImage): k8s.types.input.core.v1.PodSecurityContext {
  const { uid, gid } = IMAGE_USERS[image];
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, fsGroup: gid, fsGroupChangePolicy: "OnRootMismatch" };
}
