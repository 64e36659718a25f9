import Redis, { Cluster } from "ioredis";
import { parseClusterInfo, redisAdmin } from "../../infra/targets/local/components/redis";
import { testAddresses, testTopology } from "./clients";
import { first } from "../support/checked";

describe("Redis Cluster", () => {
  const t = testTopology();
  const a = testAddresses();

  it("reports cluster_state:ok with 3 masters, each with a linked replica", async () => {
    const node = first(a.redis, "a Redis node");
    const info = parseClusterInfo(await redisAdmin({ topology: t }, node, ["CLUSTER", "INFO"]));
    expect(info.cluster_state).toBe("ok");
    expect(info.cluster_size).toBe("3");
    expect(info.cluster_known_nodes).toBe("6");

    const nodes = (await redisAdmin({ topology: t }, node, ["CLUSTER", "NODES"]))
      .trim()
      .split("\n")
      .map((l) => l.split(" "));
    const masters = nodes.filter((n) => n[2]?.includes("master"));
    expect(masters).toHaveLength(3);
    for (const master of masters) {
      const replicas = nodes.filter((n) => n[3] === master[0] && n[7] === "connected");
      expect(replicas.length).toBeGreaterThanOrEqual(1);
    }
  });

  it("lets the app user read and write across slots", async () => {
    const cluster = new Cluster(a.redis, { redisOptions: { username: "app", password: t.redis.users.app.password } });
    try {
      const keys = ["{sale:1}:stock", "{sale:2}:stock", "{sale:3}:stock"];
      await Promise.all(keys.map((k, i) => cluster.set(k, String(i + 10))));
      expect(await Promise.all(keys.map((k) => cluster.get(k)))).toEqual(["10", "11", "12"]);
      await expect(cluster.call("FLUSHALL")).rejects.toThrow(/NOPERM/);
    } finally {
      cluster.disconnect();
    }
  });

  it("disables the default user", async () => {
    const anonymous = new Redis({
      ...a.redis[0],
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    anonymous.on("error", () => undefined); // the refusal is asserted on the command below
    try {
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH|WRONGPASS|disabled/i);
    } finally {
      anonymous.disconnect();
    }
  });
});
