import { createHash } from "node:crypto";
import { rabbitmqWatermarkBytes, type Topology } from "../topology";

/**
 * How a node of a multi-node cluster finds its peers: a fixed list of node names (Docker, where
 * container names are known in advance) or the endpoints of a headless Service, read from the
 * Kubernetes API, each endpoint's hostname plus `hostnameSuffix` naming the node.
 */
export type RabbitmqPeerDiscovery =
  { backend: "classic"; nodes: string[] } | { backend: "k8s"; serviceName: string; hostnameSuffix: string };

/** Where the RabbitMQ node listens and where the target put the definitions file. */
export interface RabbitmqOptions {
  bindHost: string;
  amqpPort: number;
  managementPort: number;
  prometheusPort: number;
  definitionsFile: string;
  /** Set when the topology has more than one node; a single node renders no cluster settings. */
  peerDiscovery?: RabbitmqPeerDiscovery;
}

/** Members a quorum queue is declared with: at most this many nodes hold a copy. */
export const QUORUM_INITIAL_GROUP_SIZE = 3;

/** The node names of a Docker-style cluster: `rabbit@<host>` for each container's host name. */
export function rabbitmqNodeNames(hosts: string[]): string[] {
  return hosts.map((h) => `rabbit@${h}`);
}

function clusterLines(t: Topology, discovery: RabbitmqPeerDiscovery | undefined): string[] {
  if (t.rabbitmq.nodes === 1 || !discovery) return [];
  const backend =
    discovery.backend === "classic"
      ? [
          "cluster_formation.peer_discovery_backend = classic_config",
          ...discovery.nodes.map((n, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${n}`),
        ]
      : [
          "cluster_formation.peer_discovery_backend = k8s",
          "cluster_formation.k8s.host = kubernetes.default.svc",
          `cluster_formation.k8s.service_name = ${discovery.serviceName}`,
          // Peers by their stable pod DNS names, which survive a pod's new IP after a reschedule.
          "cluster_formation.k8s.address_type = hostname",
          `cluster_formation.k8s.hostname_suffix = ${discovery.hostnameSuffix}`,
          // A node the StatefulSet scaled away stays a member until an operator forgets it.
          "cluster_formation.node_cleanup.only_log_warning = true",
        ];
  return [
    ...backend,
    // Definitions (and so the quorum queues in them) are imported once this many nodes run: a
    // queue declared on a lone first node would get one member (measured with 3.10.8: 1 member
    // without the hint, 3 with it).
    `cluster_formation.target_cluster_size_hint = ${t.rabbitmq.nodes}`,
    // The minority side of a partition pauses, so no two sides accept writes apart.
    "cluster_partition_handling = pause_minority",
  ];
}

/**
 * rabbitmq.conf (sysctl format) for RabbitMQ 3.10. The memory watermark is absolute, a share of
 * the broker's container limit (rabbitmqWatermarkBytes), the same on every target.
 */
export function renderRabbitmqConf(t: Topology, opts: RabbitmqOptions): string {
  return [
    `listeners.tcp.default = ${opts.bindHost}:${opts.amqpPort}`,
    `management.tcp.ip = ${opts.bindHost}`,
    `management.tcp.port = ${opts.managementPort}`,
    `prometheus.tcp.ip = ${opts.bindHost}`,
    `prometheus.tcp.port = ${opts.prometheusPort}`,
    // Imported on every boot, so users, permissions and queues converge on the topology.
    "definitions.import_backend = local_filesystem",
    `definitions.local.path = ${opts.definitionsFile}`,
    // Definitions never create guest; this keeps it loopback-only should anyone add it by hand.
    "loopback_users.guest = true",
    // Alarms block publishers before the node runs out; the API times out and says so.
    "disk_free_limit.absolute = 256MB",
    // In bytes: unit suffixes changed meaning across RabbitMQ releases (M became 10^6 bytes in 2024).
    `vm_memory_high_watermark.absolute = ${rabbitmqWatermarkBytes(t)}`,
    ...clusterLines(t, opts.peerDiscovery),
    "log.console = true",
    "log.console.level = info",
    "log.file = false",
    "",
  ].join("\n");
}

/** rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ utf8(password))). */
export function rabbitmqPasswordHash(password: string, salt: Buffer): string {
  const digest = createHash("sha256").update(salt).update(password, "utf8").digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

/** A salt derived from the user name, so re-rendering gives byte-identical definitions. */
function stableSalt(userName: string): Buffer {
  return createHash("sha256").update(userName, "utf8").digest().subarray(0, 4);
}

function user(name: string, password: string, tags: string[]) {
  return {
    name,
    password_hash: rabbitmqPasswordHash(password, stableSalt(name)),
    hashing_algorithm: "rabbit_password_hashing_sha256",
    tags,
  };
}

const dlqName = (queue: string) => `${queue}.dlq`;

/** The users (no guest) and their permissions on the one vhost, as definitions entries. */
function usersAndPermissions(t: Topology) {
  const { vhost, users } = t.rabbitmq;
  return {
    users: [
      user(users.app.name, users.app.password, []),
      user(users.admin.name, users.admin.password, ["administrator"]),
    ],
    permissions: [
      // Queues come from these definitions and the app only checks them passively: no configure.
      { user: users.app.name, vhost, configure: "^$", write: ".*", read: ".*" },
      { user: users.admin.name, vhost, configure: ".*", write: ".*", read: ".*" },
    ],
  };
}

/**
 * The users, their vhost and permissions alone: what a target that rotates passwords in place
 * imports into the running broker (`rabbitmqctl import_definitions`), which changes a password
 * without closing a connection. The broker keeps them in its database across restarts.
 */
export function renderRabbitmqUsers(t: Topology): string {
  const { users, permissions } = usersAndPermissions(t);
  return JSON.stringify({ users, vhosts: [{ name: t.rabbitmq.vhost }], permissions }, null, 2) + "\n";
}

/**
 * Definitions JSON: one vhost, app and admin users (no guest), queues with their dead-letter
 * queues. With `users: false`, no users or permissions (renderRabbitmqUsers has them): the file
 * then holds no secret, and a rotated password changes no broker config.
 */
export function renderRabbitmqDefinitions(t: Topology, opts: { users?: boolean } = {}): string {
  const { vhost, queues, deadLetterExchange } = t.rabbitmq;
  const queue = (name: string, args: Record<string, string | number>) => ({
    name,
    vhost,
    durable: true,
    auto_delete: false,
    arguments: args,
  });
  const { users, permissions } = opts.users === false ? {} : usersAndPermissions(t);
  // The same on every node count, not min(nodes, 3): a queue's arguments are fixed when it is
  // declared and a redeclaration with other values fails (PRECONDITION_FAILED), so a cluster grown
  // from one node keeps agreeing with its definitions. RabbitMQ gives a queue min(this, cluster
  // nodes) members; queues declared on a smaller cluster are grown onto the new nodes
  // (`rabbitmq-queues grow`, the Docker target's users job).
  const quorumMembers = { "x-quorum-initial-group-size": QUORUM_INITIAL_GROUP_SIZE };
  const definitions = {
    users,
    vhosts: [{ name: vhost }],
    permissions,
    exchanges: [
      {
        name: deadLetterExchange,
        vhost,
        type: "direct",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    ],
    queues: queues.flatMap((q) => [
      queue(q.name, {
        "x-queue-type": q.type,
        "x-dead-letter-exchange": deadLetterExchange,
        "x-dead-letter-routing-key": dlqName(q.name),
        // Poison messages go to the DLQ after this many deliveries; only quorum queues count them.
        ...(q.type === "quorum" ? { "x-delivery-limit": q.deliveryLimit, ...quorumMembers } : {}),
      }),
      queue(dlqName(q.name), { "x-queue-type": "quorum", ...quorumMembers }),
    ]),
    bindings: queues.map((q) => ({
      source: deadLetterExchange,
      vhost,
      destination: dlqName(q.name),
      destination_type: "queue",
      routing_key: dlqName(q.name),
      arguments: {},
    })),
  };
  return JSON.stringify(definitions, null, 2) + "\n";
}

/**
 * enabled_plugins: the management API (runbooks, rabbitmqadmin) and the Prometheus endpoint, plus
 * Kubernetes peer discovery where the nodes find each other through the Kubernetes API.
 */
export function renderEnabledPlugins(opts: { k8sPeerDiscovery?: boolean } = {}): string {
  const plugins = ["rabbitmq_management", "rabbitmq_prometheus"];
  if (opts.k8sPeerDiscovery) plugins.push("rabbitmq_peer_discovery_k8s");
  return `[${plugins.join(",")}].\n`;
}
