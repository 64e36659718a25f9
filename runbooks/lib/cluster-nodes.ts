/**
 * Redis Cluster's own view of its nodes (CLUSTER NODES), and which of the stack's nodes each entry
 * is. Nodes that announce a hostname (the Kubernetes target: pod DNS names) are matched by it, since
 * the IP Redis reports changes with every pod restart and never equals the name the stack file
 * holds; nodes without one (the local stack, Docker's fixed IPs) by ip:port.
 */
import { hostPort, type HostPort } from "../../infra/topology";

/** One entry of CLUSTER NODES (Redis 7: `<id> <ip>:<port>@<cport>[,<hostname>] <flags> <master> …`). */
export interface ClusterNode {
  id: string;
  ip: string;
  port: number;
  /** The name the node announces (cluster-announce-hostname); absent when it announces none. */
  hostname?: string;
  flags: string[];
  /** The master it replicates; absent for a master. */
  masterId?: string;
  /** Whether the link to it is up, as the answering node sees it. */
  connected: boolean;
  slots: string[];
}

/** CLUSTER NODES' text, one entry per line. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [id, endpoint, flags, master, , , , link, ...slots] = line.split(" ");
      if (
        id === undefined ||
        endpoint === undefined ||
        flags === undefined ||
        master === undefined ||
        link === undefined
      )
        throw new Error(`CLUSTER NODES: expected at least 8 fields, got '${line}'`);
      const [address = "", hostname] = endpoint.split(","); // split always yields the first part
      const at = address.lastIndexOf(":");
      return {
        id,
        ip: address.slice(0, at),
        port: Number(address.slice(at + 1).split("@")[0]),
        ...(hostname ? { hostname } : {}),
        flags: flags.split(","),
        ...(master !== "-" ? { masterId: master } : {}),
        connected: link === "connected",
        slots,
      };
    });
}

/** Whether the entry is `address`: by hostname when the node announces one, else by ip:port. */
export function isNode(entry: ClusterNode, address: HostPort): boolean {
  if (entry.port !== address.port) return false;
  return entry.hostname !== undefined
    ? entry.hostname === address.host
    : hostPort({ host: entry.ip, port: entry.port }) === hostPort(address);
}

/** The answering node's own entry ("myself"). */
export function myself(nodes: ClusterNode[]): ClusterNode | undefined {
  return nodes.find((n) => n.flags.includes("myself"));
}

/** The replicas of `masterId` that the answering node sees healthy, in CLUSTER NODES order. */
export function healthyReplicas(nodes: ClusterNode[], masterId: string): ClusterNode[] {
  return nodes.filter(
    (n) => n.masterId === masterId && n.connected && !n.flags.some((f) => f === "fail" || f === "fail?"),
  );
}
