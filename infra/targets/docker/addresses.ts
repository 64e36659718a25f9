import {
  NAMES,
  apiSlots,
  mysqlReplicaName,
  mysqldExporterName,
  placeAddresses,
  rabbitmqName,
  workerName,
  type Addresses,
  type Topology,
} from "../../topology";

/** The subnet used when the stack config sets none. */
export const DEFAULT_SUBNET = "172.28.0.0/16";

/**
 * The network alias every RabbitMQ node of a multi-node cluster also answers to: Docker's DNS gives
 * the addresses of the running ones, so a client reconnecting after a node's loss finds another.
 */
export const RABBITMQ_CLUSTER_ALIAS = "rabbitmq-cluster";
/** Where AMQP and management clients reach RabbitMQ: the one node, or any node of a cluster. */
export const rabbitmqClientHost = (t: Topology) => (t.rabbitmq.nodes === 1 ? NAMES.rabbitmq : RABBITMQ_CLUSTER_ALIAS);

/** The /16's first two octets ("172.28"), validated. */
function prefix16(subnet: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(subnet);
  if (!m) throw new Error(`docker subnet ${JSON.stringify(subnet)}: expected a /16 such as ${DEFAULT_SUBNET}`);
  return `${m[1]}.${m[2]}`;
}

/** Docker assigns dynamic addresses only from this range, so the fixed ones below never collide. */
export function dynamicRange(subnet: string): string {
  return `${prefix16(subnet)}.1.0/24`;
}

/** Fixed IPv4 of API slot `i`: nginx resolves upstreams once at start, and a stopped slot has no DNS name. */
export function apiIp(subnet: string, i: number): string {
  return `${prefix16(subnet)}.10.${i + 1}`;
}

/** Fixed IPv4 of Redis node `i`: a cluster node's identity (nodes.conf) survives a container re-create. */
export function redisIp(subnet: string, i: number): string {
  return `${prefix16(subnet)}.20.${i + 1}`;
}

/** MariaDB host pattern matching every container on the private network (users are granted by IP). */
export function mysqlClientHost(subnet: string): string {
  return `${prefix16(subnet)}.0.0/255.255.0.0`;
}

/**
 * Addresses on one Docker host: every container on the private network under its name (names.ts;
 * fixed IPs for API slots and Redis nodes), each on its topology port, so rendered files differ from
 * the local stack's only in hosts. API slots share one port: each has an address of its own.
 */
export function dockerAddresses(t: Topology, subnet = DEFAULT_SUBNET): Addresses {
  return placeAddresses(t, {
    apiSlots: apiSlots(t),
    rabbitmqNodes: t.rabbitmq.nodes,
    autoscaler: true,
    at: ({ field, index, kind, port, sharedPort }) => {
      switch (field) {
        case "api":
          return { host: apiIp(subnet, index), port: sharedPort };
        case "redis":
          return { host: redisIp(subnet, index), port };
        case "workers":
          return { host: workerName(kind!, index), port };
        case "mysqlReplicas":
          return { host: mysqlReplicaName(index + 1), port };
        case "mysqldExporters":
          return { host: mysqldExporterName(index), port };
        case "rabbitmq":
        case "rabbitmqManagement":
          return { host: rabbitmqClientHost(t), port };
        case "rabbitmqPrometheus":
          return { host: NAMES.rabbitmq, port };
        case "rabbitmqNodeMetrics":
          return { host: rabbitmqName(index), port };
        case "nginxStatus":
          return { host: NAMES.nginx, port };
        default:
          return { host: NAMES[field], port };
      }
    },
  });
}
