import {
  parseTopology,
  redisNodeCount,
  type TopologyInput,
  apiSlots,
  mysqldExporterName,
  workerKindName,
} from "../../topology";
import { kubernetesAddresses, podHost, redisPod, serviceHost, workerMetricsPort } from "./addresses";

describe("serviceHost and podHost", () => {
  it.each([
    ["mysql-primary", { namespace: "floodgate" }, "mysql-primary.floodgate.svc.cluster.local"],
    ["tracker", { namespace: "shop", domain: "k8s.example" }, "tracker.shop.svc.k8s.example"],
  ])("names Service %s in %j as %s", (service, dns, expected) => {
    expect(serviceHost(service, dns)).toBe(expected);
  });

  it("names a StatefulSet pod through its headless Service", () => {
    expect(podHost("redis-4", "redis", { namespace: "fg" })).toBe("redis-4.redis.fg.svc.cluster.local");
  });
});

describe("names", () => {
  it.each([
    ["orders", "worker-orders"],
    ["redPacketGrabs", "worker-red-packet-grabs"],
  ] as const)("runs worker kind %s as %s", (kind, expected) => {
    expect(workerKindName(kind)).toBe(expected);
  });

  it.each([
    [0, "mysqld-exporter-primary"],
    [1, "mysqld-exporter-replica-1"],
    [3, "mysqld-exporter-replica-3"],
  ])("names mysqld exporter %i %s", (i, expected) => {
    expect(mysqldExporterName(i)).toBe(expected);
  });
});

describe("redisPod", () => {
  const t = parseTopology({ redis: { masters: 3, replicasPerMaster: 2 } });

  it.each([
    [0, 0, 0],
    [2, 2, 0],
    [3, 0, 1],
    [5, 2, 1],
    [6, 0, 2],
    [8, 2, 2],
  ])(
    "runs node %i as pod %i-%i: each shard a master and its own replicas (redisShards' order)",
    (i, shard, ordinal) => {
      expect(redisPod(t, i)).toEqual({ shard, ordinal });
    },
  );
});

describe("kubernetesAddresses", () => {
  const cases: Array<[string, TopologyInput]> = [
    ["defaults", {}],
    [
      "scaled out",
      {
        api: { replicas: 5 },
        autoscaling: { minReplicas: 2, maxReplicas: 4 },
        mysql: { replicas: 3 },
        redis: { masters: 5, replicasPerMaster: 2 },
      },
    ],
    [
      "autoscaler above replicas",
      {
        api: { replicas: 2 },
        autoscaling: { minReplicas: 2, maxReplicas: 10 },
        workers: { orders: { processes: 0, concurrency: 1 } },
      },
    ],
  ];

  describe.each(cases)("with %s", (_label, input) => {
    const t = parseTopology(input);
    const a = kubernetesAddresses(t, { namespace: "fg" });

    it("lists one API slot per replica the autoscaler may run, each behind its own Service", () => {
      expect(a.api).toHaveLength(Math.max(t.api.replicas, t.autoscaling.maxReplicas));
      expect(a.api.length).toBe(apiSlots(t));
      a.api.forEach((slot, i) => expect(slot).toEqual({ host: `api-${i}.fg.svc.cluster.local`, port: t.api.basePort }));
    });

    it("reaches every Redis node by its pod's stable DNS name: each shard's pod 0 first, then the replicas", () => {
      const pod = (i: number) => {
        const { shard, ordinal } = redisPod(t, i);
        return `redis-shard-${shard}-${ordinal}.redis.fg.svc.cluster.local`;
      };
      expect(a.redis.map((n) => n.host)).toEqual(Array.from({ length: redisNodeCount(t) }, (_, i) => pod(i)));
      expect(a.redis.slice(0, t.redis.masters).map((n) => n.host)).toEqual(
        Array.from({ length: t.redis.masters }, (_, s) => `redis-shard-${s}-0.redis.fg.svc.cluster.local`),
      );
      expect(new Set(a.redis.map((n) => n.host)).size).toBe(redisNodeCount(t));
      expect(new Set(a.redis.map((n) => n.port))).toEqual(new Set([t.redis.basePort]));
    });

    it("keeps the topology's ports for each MariaDB server and its exporter", () => {
      expect(a.mysqlPrimary).toEqual({ host: "mysql-primary.fg.svc.cluster.local", port: t.mysql.primaryPort });
      expect(a.mysqlReplicas.map((r) => r.port)).toEqual(
        Array.from({ length: t.mysql.replicas }, (_, i) => t.mysql.replicaBasePort + i),
      );
      expect(a.mysqldExporters).toHaveLength(1 + t.mysql.replicas);
    });

    it("gives each worker process a pod DNS name on its kind's metrics port", () => {
      expect(a.workers.orders).toHaveLength(t.workers.orders.processes);
      for (const w of a.workers.redPacketGrabs) expect(w.port).toBe(workerMetricsPort(t, "redPacketGrabs"));
      expect(workerMetricsPort(t, "redPacketGrabs")).not.toBe(workerMetricsPort(t, "orders"));
    });
  });
});
