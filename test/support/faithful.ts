import { hostPort, type Addresses, type HostPort } from "../../infra/topology";

/**
 * Compare a config file a target mounts with what the local stack renders for the same topology:
 * after normalising hosts, ports and target paths the two must be identical, so the only
 * differences are the ones each target is allowed (where things are, not what they are).
 */

/** What one rendering call was given that may differ between targets. */
export interface TargetSpecifics {
  /** The target's addresses: every `host:port` of it becomes `<host>:<port>`. */
  addresses: Addresses;
  /** Hosts, bind addresses or CIDRs passed to the renderer on their own (bindHost, clientHost, …). */
  bareHosts?: string[];
  /** Filesystem paths passed to the renderer (datadir, prefix, rule files, …). */
  paths?: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Every address in `a`, flattened. */
export function allHostPorts(a: Addresses): HostPort[] {
  return Object.values(a).flatMap((v): HostPort[] => {
    if (v === undefined) return []; // a component this target does not run
    if (Array.isArray(v)) return v;
    if ("host" in v) return [v as HostPort];
    return Object.values(v as Record<string, HostPort[]>).flat();
  });
}

/** `text` with the target's paths, host:port pairs, bare hosts and ports replaced by placeholders. */
export function normaliseConfig(text: string, s: TargetSpecifics): string {
  const pairs = allHostPorts(s.addresses);
  const byLength = (xs: string[]) => [...new Set(xs)].sort((x, y) => y.length - x.length);
  let out = text;
  for (const p of byLength(s.paths ?? [])) out = out.split(p).join("<path>");
  for (const hp of byLength(pairs.map(hostPort))) out = out.split(hp).join("<host>:<port>");
  for (const h of byLength(s.bareHosts ?? [])) {
    out = out.replace(new RegExp(`(?<![A-Za-z0-9.-])${escape(h)}(?![A-Za-z0-9-]|\\.[A-Za-z0-9])`, "g"), "<host>");
  }
  for (const port of byLength(pairs.map((hp) => String(hp.port)))) {
    out = out.replace(new RegExp(`(?<![0-9.])${port}(?![0-9])`, "g"), "<port>");
  }
  return out;
}

/** The first line where two normalised files differ, or undefined when they are the same. */
export function firstDifference(a: string, b: string): string | undefined {
  const la = a.split("\n");
  const lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}: ${JSON.stringify(la[i])} vs ${JSON.stringify(lb[i])}`;
  }
  return undefined;
}

/** undefined when `target` and `local` differ only in hosts, ports and paths; else where they differ. */
export function differenceBeyondHostsAndPorts(
  target: { text: string; specifics: TargetSpecifics },
  local: { text: string; specifics: TargetSpecifics },
): string | undefined {
  return firstDifference(normaliseConfig(target.text, target.specifics), normaliseConfig(local.text, local.specifics));
}
