import { createHash } from "node:crypto";
import { at, exactly } from "../../test/support/checked";
import { parseTopology, type Topology, type TopologyInput } from "../topology";
import {
  rabbitmqPasswordHash,
  renderEnabledPlugins,
  renderRabbitmqConf,
  renderRabbitmqDefinitions,
  type RabbitmqOptions,
  type RabbitmqPeerDiscovery,
} from "./rabbitmq";

const buildTopology = (input: TopologyInput = {}): Topology => parseTopology(input);

const buildOptions = (overrides: Partial<RabbitmqOptions> = {}): RabbitmqOptions => ({
  bindHost: "127.0.0.1",
  amqpPort: 15682,
  managementPort: 15683,
  prometheusPort: 15693,
  definitionsFile: "/etc/rabbitmq/definitions.json",
  ...overrides,
});

interface Definitions {
  users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[] }[];
  vhosts: { name: string }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  exchanges: { name: string; type: string; durable: boolean }[];
  queues: { name: string; vhost: string; durable: boolean; arguments: Record<string, unknown> }[];
  bindings: { source: string; destination: string; destination_type: string; routing_key: string }[];
}

const definitionsOf = (t: Topology): Definitions => JSON.parse(renderRabbitmqDefinitions(t)) as Definitions;

/** Recompute a rabbit_password_hashing_sha256 hash from its own salt. */
function verifies(hash: string, password: string): boolean {
  const bytes = Buffer.from(hash, "base64");
  const salt = bytes.subarray(0, 4);
  const digest = createHash("sha256").update(salt).update(password, "utf8").digest();
  return bytes.length === 36 && digest.equals(bytes.subarray(4));
}

describe("renderRabbitmqConf", () => {
  it.each([
    ["127.0.0.1", 15682, 15683, 15693],
    ["0.0.0.0", 5672, 15672, 15692],
  ])("listens on %s (amqp %d, management %d, prometheus %d) and nowhere else", (bindHost, amqp, mgmt, prom) => {
    const conf = renderRabbitmqConf(
      buildTopology(),
      buildOptions({ bindHost, amqpPort: amqp, managementPort: mgmt, prometheusPort: prom }),
    ).split("\n");

    expect(conf).toEqual(
      expect.arrayContaining([
        `listeners.tcp.default = ${bindHost}:${amqp}`,
        `management.tcp.ip = ${bindHost}`,
        `management.tcp.port = ${mgmt}`,
        `prometheus.tcp.ip = ${bindHost}`,
        `prometheus.tcp.port = ${prom}`,
      ]),
    );
    expect(conf.join("\n").match(/\d+\.\d+\.\d+\.\d+/g)).toEqual([bindHost, bindHost, bindHost]);
  });

  it.each([
    [512, 322_122_547],
    [2048, 1_288_490_188],
  ])(
    "blocks publishers at an absolute watermark from a %i MiB limit, never a share of the host's RAM",
    (limit, bytes) => {
      const conf = renderRabbitmqConf(buildTopology({ rabbitmq: { memoryLimitMb: limit } }), buildOptions()).split(
        "\n",
      );

      expect(conf.filter((l) => l.startsWith("vm_memory_high_watermark"))).toEqual([
        `vm_memory_high_watermark.absolute = ${bytes}`,
      ]);
    },
  );

  it("loads the given definitions file and keeps guest loopback-only", () => {
    const conf = renderRabbitmqConf(buildTopology(), buildOptions({ definitionsFile: "/x/defs.json" })).split("\n");

    expect(conf).toEqual(
      expect.arrayContaining([
        "definitions.import_backend = local_filesystem",
        "definitions.local.path = /x/defs.json",
        "loopback_users.guest = true",
      ]),
    );
  });
});

describe("renderRabbitmqConf cluster formation", () => {
  const classic: RabbitmqPeerDiscovery = { backend: "classic", nodes: ["rabbit@a", "rabbit@b", "rabbit@c"] };
  const k8s: RabbitmqPeerDiscovery = {
    backend: "k8s",
    serviceName: "rabbitmq-nodes",
    hostnameSuffix: ".rabbitmq-nodes.ns.svc.cluster.local",
  };
  const clusterLines = (nodes: number, peerDiscovery?: RabbitmqPeerDiscovery) =>
    renderRabbitmqConf(buildTopology({ rabbitmq: { nodes } }), buildOptions({ peerDiscovery }))
      .split("\n")
      .filter((l) => /^cluster_/.test(l));

  it.each([
    ["no discovery", undefined],
    ["a peer list", classic],
  ])("renders nothing of a cluster for one node with %s", (_, discovery) => {
    expect(clusterLines(1, discovery)).toEqual([]);
  });

  it("lists every peer by node name on classic config, waits for all of them and pauses a minority", () => {
    expect(clusterLines(3, classic)).toEqual([
      "cluster_formation.peer_discovery_backend = classic_config",
      "cluster_formation.classic_config.nodes.1 = rabbit@a",
      "cluster_formation.classic_config.nodes.2 = rabbit@b",
      "cluster_formation.classic_config.nodes.3 = rabbit@c",
      "cluster_formation.target_cluster_size_hint = 3",
      "cluster_partition_handling = pause_minority",
    ]);
  });

  it("finds the peers as the headless Service's endpoints by host name on Kubernetes", () => {
    expect(clusterLines(5, k8s)).toEqual([
      "cluster_formation.peer_discovery_backend = k8s",
      "cluster_formation.k8s.host = kubernetes.default.svc",
      "cluster_formation.k8s.service_name = rabbitmq-nodes",
      "cluster_formation.k8s.address_type = hostname",
      "cluster_formation.k8s.hostname_suffix = .rabbitmq-nodes.ns.svc.cluster.local",
      "cluster_formation.node_cleanup.only_log_warning = true",
      "cluster_formation.target_cluster_size_hint = 5",
      "cluster_partition_handling = pause_minority",
    ]);
  });
});

describe("renderRabbitmqDefinitions", () => {
  it.each([
    [[{ name: "orders" }], ["orders", "orders.dlq"]],
    [
      [{ name: "orders" }, { name: "tracking" }, { name: "grabs" }],
      ["orders", "orders.dlq", "tracking", "tracking.dlq", "grabs", "grabs.dlq"],
    ],
  ])("declares exactly the queues %j and their dead-letter queues", (queues, expected) => {
    const d = definitionsOf(buildTopology({ rabbitmq: { queues } }));

    expect(d.queues.map((q) => q.name)).toEqual(expected);
    expect(d.queues.every((q) => q.durable && q.vhost === "floodgate")).toBe(true);
    expect(d.bindings.map((b) => [b.source, b.destination, b.routing_key])).toEqual(
      queues.map((q) => ["floodgate.dlx", `${q.name}.dlq`, `${q.name}.dlq`]),
    );
  });

  it.each([
    ["quorum", 7, { "x-delivery-limit": 7 }],
    ["classic", 7, {}],
  ] as const)(
    "gives a %s queue dead-lettering and the delivery limit %j only when quorum",
    (type, deliveryLimit, limit) => {
      const d = definitionsOf(buildTopology({ rabbitmq: { queues: [{ name: "orders", type, deliveryLimit }] } }));

      expect(at(d.queues, 0, "the orders queue").arguments).toEqual({
        "x-queue-type": type,
        "x-dead-letter-exchange": "floodgate.dlx",
        "x-dead-letter-routing-key": "orders.dlq",
        ...limit,
        ...(type === "quorum" ? { "x-quorum-initial-group-size": 3 } : {}),
      });
      expect(at(d.queues, 1, "the orders queue's dead-letter queue").arguments).toEqual({
        "x-queue-type": "quorum",
        "x-quorum-initial-group-size": 3,
      });
    },
  );

  it.each([1, 3, 5])(
    "declares the same queue arguments on %i node(s), so a grown cluster never meets PRECONDITION_FAILED",
    (nodes) => {
      expect(renderRabbitmqDefinitions(buildTopology({ rabbitmq: { nodes } }))).toBe(
        renderRabbitmqDefinitions(buildTopology()),
      );
    },
  );

  it("declares the dead-letter exchange as a durable direct exchange", () => {
    const d = definitionsOf(buildTopology({ rabbitmq: { deadLetterExchange: "dead.letters" } }));

    expect(d.exchanges).toEqual([expect.objectContaining({ name: "dead.letters", type: "direct", durable: true })]);
  });

  it("creates the app and admin users only, with hashes that verify and no guest", () => {
    const t = buildTopology();
    const d = definitionsOf(t);
    const { app, admin } = t.rabbitmq.users;

    expect(d.users.map((u) => [u.name, u.tags, u.hashing_algorithm])).toEqual([
      [app.name, [], "rabbit_password_hashing_sha256"],
      [admin.name, ["administrator"], "rabbit_password_hashing_sha256"],
    ]);
    const [appUser, adminUser] = exactly(d.users, 2, "users");
    expect(verifies(appUser.password_hash, app.password)).toBe(true);
    expect(verifies(adminUser.password_hash, admin.password)).toBe(true);
    expect(renderRabbitmqDefinitions(t)).not.toMatch(/guest/);
  });

  it("lets the app publish and consume but not declare anything", () => {
    const t = buildTopology();
    const d = definitionsOf(t);

    expect(d.vhosts).toEqual([{ name: "floodgate" }]);
    expect(d.permissions.map((p) => [p.user, p.vhost, p.configure, p.write, p.read])).toEqual([
      [t.rabbitmq.users.app.name, "floodgate", "^$", ".*", ".*"],
      [t.rabbitmq.users.admin.name, "floodgate", ".*", ".*", ".*"],
    ]);
  });

  it("renders byte-identical output for the same topology", () => {
    expect(renderRabbitmqDefinitions(buildTopology())).toBe(renderRabbitmqDefinitions(buildTopology()));
  });
});

describe("rabbitmqPasswordHash", () => {
  it("matches the hash RabbitMQ 3.10.8 accepted at login for the default app user", () => {
    const salt = createHash("sha256").update("floodgate_app").digest().subarray(0, 4);

    expect(rabbitmqPasswordHash("local-rabbit-app-password", salt)).toBe(
      "k7ml/f6YEy8nmDH4eyxPtliYPEkqEcU50Z1mkjbixQAVRQgf",
    );
  });

  it.each(["pässwörd", "", "x".repeat(200)])("produces a hash that verifies for %j", (password) => {
    expect(verifies(rabbitmqPasswordHash(password, Buffer.from([1, 2, 3, 4])), password)).toBe(true);
  });
});

describe("renderEnabledPlugins", () => {
  it("enables management and prometheus as an Erlang term", () => {
    expect(renderEnabledPlugins()).toBe("[rabbitmq_management,rabbitmq_prometheus].\n");
  });

  it("adds Kubernetes peer discovery where the nodes find each other through the API", () => {
    expect(renderEnabledPlugins({ k8sPeerDiscovery: true })).toBe(
      "[rabbitmq_management,rabbitmq_prometheus,rabbitmq_peer_discovery_k8s].\n",
    );
  });
});
