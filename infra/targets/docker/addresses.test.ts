import { parseTopology, redisNodeCount, apiSlots, mysqldExporterName, rabbitmqName, workerName } from "../../topology";
import { apiIp, dockerAddresses, dynamicRange, mysqlClientHost, redisIp } from "./addresses";

describe("Docker addresses", () => {
  it.each([
    [{}, 6],
    [{ api: { replicas: 8 }, autoscaling: { maxReplicas: 8 } }, 8],
    [{ api: { replicas: 3 }, autoscaling: { minReplicas: 1, maxReplicas: 2 } }, 3],
  ])("lists one API slot per possible replica (%j → %i)", (input, slots) => {
    const t = parseTopology(input);
    expect(apiSlots(t)).toBe(slots);
    expect(dockerAddresses(t).api).toHaveLength(slots);
  });

  it.each([
    ["172.28.0.0/16", 0, "172.28.10.1", "172.28.20.1", "172.28.1.0/24", "172.28.0.0/255.255.0.0"],
    ["10.42.0.0/16", 5, "10.42.10.6", "10.42.20.6", "10.42.1.0/24", "10.42.0.0/255.255.0.0"],
  ])("gives fixed addresses outside the dynamic range in %s (slot %i)", (subnet, i, api, redis, dynamic, client) => {
    expect([apiIp(subnet, i), redisIp(subnet, i), dynamicRange(subnet), mysqlClientHost(subnet)]).toEqual([
      api,
      redis,
      dynamic,
      client,
    ]);
  });

  it.each(["172.28.0.0/24", "not-a-subnet", "172.28.1.0/16"])("rejects the subnet %s", (subnet) => {
    expect(() => apiIp(subnet, 0)).toThrow(subnet);
  });

  it.each([
    [{}, 6],
    [{ redis: { masters: 4, replicasPerMaster: 2 } }, 12],
  ])("puts each Redis node at its own fixed address and topology port (%j)", (input, nodes) => {
    const t = parseTopology(input);
    const a = dockerAddresses(t, "10.1.0.0/16");
    expect(a.redis).toHaveLength(redisNodeCount(t));
    expect(a.redis.map((n) => n.host)).toEqual(Array.from({ length: nodes }, (_, i) => `10.1.20.${i + 1}`));
    expect(a.redis.map((n) => n.port)).toEqual(Array.from({ length: nodes }, (_, i) => t.redis.basePort + i));
  });

  it.each([
    ["orders", 0, "worker-orders-1"],
    ["redPacketGrabs", 1, "worker-red-packet-grabs-2"],
  ] as const)("names worker %s #%i %s", (kind, i, name) => {
    expect(workerName(kind, i)).toBe(name);
  });

  it("reaches single servers by container name on their topology ports", () => {
    const t = parseTopology({ mysql: { replicas: 2 } });
    const a = dockerAddresses(t);
    expect(a.mysqlPrimary).toEqual({ host: "mysql-primary", port: t.mysql.primaryPort });
    expect(a.mysqlReplicas).toEqual([
      { host: "mysql-replica-1", port: t.mysql.replicaBasePort },
      { host: "mysql-replica-2", port: t.mysql.replicaBasePort + 1 },
    ]);
    expect(a.mysqldExporters.map((e) => e.host)).toEqual([0, 1, 2].map(mysqldExporterName));
    expect(a.rabbitmq).toEqual({ host: "rabbitmq", port: t.rabbitmq.port });
  });

  it.each([
    [1, "rabbitmq", ["rabbitmq"]],
    [3, "rabbitmq-cluster", ["rabbitmq", "rabbitmq-2", "rabbitmq-3"]],
  ])("reaches %i RabbitMQ node(s) through %s and scrapes each of %j", (nodes, client, each) => {
    const t = parseTopology({ rabbitmq: { nodes } });
    const a = dockerAddresses(t);
    expect([a.rabbitmq, a.rabbitmqManagement].map((x) => x.host)).toEqual([client, client]);
    expect(a.rabbitmqNodeMetrics).toEqual(each.map((host) => ({ host, port: t.rabbitmq.prometheusPort })));
    expect(each).toEqual(Array.from({ length: nodes }, (_, i) => rabbitmqName(i)));
  });
});
