/**
 * Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/):
 * the level each namespace enforces, and every pod that does not meet "restricted", with why.
 * infra/targets/kubernetes/policy.test.ts checks each pod against the level claimed here.
 */

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** The Pod Security admission labels of a namespace. */
export interface NamespacePodSecurity {
  /** Pods below it are refused. */
  enforce: PodSecurityLevel;
  /** Pods below it are admitted with a warning to the client and an audit annotation. */
  warn: PodSecurityLevel;
}

/**
 * The deployment's namespace refuses anything below "baseline" (the object store, below, is the one
 * pod between the two) and warns on anything below "restricted", so a new pod that slips is seen.
 */
export const DEPLOYMENT_POD_SECURITY: NamespacePodSecurity = { enforce: "baseline", warn: "restricted" };

/** The node exporter's own namespace (addresses.ts, hostNamespace). */
export const HOST_POD_SECURITY: NamespacePodSecurity = { enforce: "privileged", warn: "privileged" };

/**
 * The version of the standards the labels pin: a cluster upgrade then cannot tighten them under a
 * running deployment. 1.30's "restricted" is the current one (unchanged since 1.25).
 */
export const POD_SECURITY_VERSION = "v1.30";

/** A namespace's labels for `levels`. */
export function podSecurityLabels(levels: NamespacePodSecurity): Record<string, string> {
  const p = "pod-security.kubernetes.io";
  return {
    [`${p}/enforce`]: levels.enforce,
    [`${p}/enforce-version`]: POD_SECURITY_VERSION,
    [`${p}/warn`]: levels.warn,
    [`${p}/warn-version`]: POD_SECURITY_VERSION,
    [`${p}/audit`]: levels.warn,
    [`${p}/audit-version`]: POD_SECURITY_VERSION,
  };
}

/**
 * The pods (by their `app.kubernetes.io/name` label) below "restricted", each with the level it
 * meets and why; every other pod the program declares meets "restricted".
 */
export const POD_SECURITY_EXCEPTIONS: Record<string, { level: PodSecurityLevel; why: string }> = {
  bucket: {
    level: "baseline",
    why:
      "SeaweedFS is the one upstream image (Debian does not package it) and runs as root; running it " +
      "as another user is untested here, so it keeps root and the runtime's default capabilities, " +
      "with no privilege escalation and the runtime's seccomp profile",
  },
  "node-exporter": {
    level: "privileged",
    why:
      'reads each node\'s /proc and /sys through hostPath volumes, which only "privileged" allows; ' +
      'it runs in its own namespace so the deployment\'s can enforce "baseline"',
  },
};
