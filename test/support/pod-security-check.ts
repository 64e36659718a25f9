import type { PodSecurityLevel } from "../../infra/targets/kubernetes/pod-security";

// The checks of Kubernetes' Pod Security Standards (v1.30) over a pod spec, written from the
// standards' page (https://kubernetes.io/docs/concepts/security/pod-security-standards/): the
// admission controller that applies them is Go code inside the API server, with no JavaScript
// port, and no cluster runs here. What this cannot prove: fields the standards check on the pod's
// metadata (AppArmor annotations; the program sets none) and a cluster's own admission plugins.

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The capabilities "baseline" lets a container add (the container runtime's defaults). */
const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

/** The sysctls "baseline" allows a pod to set. */
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);

/** The volume types "restricted" allows. */
const RESTRICTED_VOLUMES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

const containersOf = (spec: Obj): Obj[] => [
  ...((spec.initContainers as Obj[] | undefined) ?? []),
  ...((spec.containers as Obj[] | undefined) ?? []),
  ...((spec.ephemeralContainers as Obj[] | undefined) ?? []),
];

/** What makes `spec` fail "baseline": one line each, empty when it passes. */
function baselineProblems(spec: Obj): string[] {
  const problems: string[] = [];
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[field]) problems.push(`${field} is set`);
  for (const v of (spec.volumes as Obj[] | undefined) ?? []) {
    if (v.hostPath) problems.push(`volume ${v.name} is a hostPath`);
  }
  for (const s of (spec.securityContext?.sysctls as Obj[] | undefined) ?? []) {
    if (!SAFE_SYSCTLS.has(s.name)) problems.push(`sysctl ${s.name} is not a safe one`);
  }
  const podSeccomp = spec.securityContext?.seccompProfile?.type;
  if (podSeccomp === "Unconfined") problems.push("the pod's seccomp profile is Unconfined");
  for (const c of containersOf(spec)) {
    const sc: Obj = c.securityContext ?? {};
    if (sc.privileged) problems.push(`${c.name} is privileged`);
    for (const cap of (sc.capabilities?.add as string[] | undefined) ?? []) {
      if (!BASELINE_CAPABILITIES.has(cap)) problems.push(`${c.name} adds capability ${cap}`);
    }
    for (const p of (c.ports as Obj[] | undefined) ?? []) {
      if (p.hostPort) problems.push(`${c.name} takes host port ${p.hostPort}`);
    }
    if (sc.procMount && sc.procMount !== "Default") problems.push(`${c.name} mounts /proc ${sc.procMount}`);
    if (sc.seccompProfile?.type === "Unconfined") problems.push(`${c.name}'s seccomp profile is Unconfined`);
    if (sc.appArmorProfile?.type === "Unconfined") problems.push(`${c.name}'s AppArmor profile is Unconfined`);
    if (sc.windowsOptions?.hostProcess) problems.push(`${c.name} is a Windows host process`);
  }
  return problems;
}

/** What makes `spec` fail "restricted" beyond "baseline": one line each. */
function restrictedProblems(spec: Obj): string[] {
  const problems: string[] = [];
  const pod: Obj = spec.securityContext ?? {};
  for (const v of (spec.volumes as Obj[] | undefined) ?? []) {
    const type = Object.keys(v).find((k) => k !== "name");
    if (!type || !RESTRICTED_VOLUMES.has(type)) problems.push(`volume ${v.name} is a ${type ?? "volume of no type"}`);
  }
  if (pod.runAsUser === 0) problems.push("the pod runs as user 0");
  for (const c of containersOf(spec)) {
    const sc: Obj = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${c.name} does not forbid privilege escalation`);
    const runAsNonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (runAsNonRoot !== true) problems.push(`${c.name} does not require a non-root user`);
    if (sc.runAsUser === 0) problems.push(`${c.name} runs as user 0`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      problems.push(`${c.name} has no RuntimeDefault or Localhost seccomp profile`);
    }
    const drop = (sc.capabilities?.drop as string[] | undefined) ?? [];
    if (!drop.includes("ALL")) problems.push(`${c.name} does not drop ALL capabilities`);
    for (const cap of (sc.capabilities?.add as string[] | undefined) ?? []) {
      if (cap !== "NET_BIND_SERVICE") problems.push(`${c.name} adds capability ${cap}`);
    }
  }
  return problems;
}

/** What makes a pod spec fail `level`: one line per problem, empty when it meets it. */
export function podSecurityProblems(spec: Obj, level: PodSecurityLevel): string[] {
  if (level === "privileged") return [];
  const baseline = baselineProblems(spec);
  return level === "baseline" ? baseline : [...baseline, ...restrictedProblems(spec)];
}

/** The most a pod spec meets. */
export function podSecurityLevel(spec: Obj): PodSecurityLevel {
  if (podSecurityProblems(spec, "restricted").length === 0) return "restricted";
  return podSecurityProblems(spec, "baseline").length === 0 ? "baseline" : "privileged";
}
