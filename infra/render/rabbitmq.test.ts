import { createHash } from "node:crypto";
import { parseTopology, type Topology, type TopologyInput } from "../topology";
import {
  rabbitmqPasswordHash,
  renderEnabledPlugins,
  renderRabbitmqConf,
  renderRabbitmqDefinitions,
  type RabbitmqOptions,
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

      expect(d.queues[0].arguments).toEqual({
        "x-queue-type": type,
        "x-dead-letter-exchange": "floodgate.dlx",
        "x-dead-letter-routing-key": "orders.dlq",
        ...limit,
      });
      expect(d.queues[1].arguments).toEqual({ "x-queue-type": "quorum" });
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
    expect(verifies(d.users[0].password_hash, app.password)).toBe(true);
    expect(verifies(d.users[1].password_hash, admin.password)).toBe(true);
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
});
