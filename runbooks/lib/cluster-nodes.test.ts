import { first } from "../../test/support/checked";
import { healthyReplicas, isNode, myself, parseClusterNodes } from "./cluster-nodes";

// CLUSTER NODES as Redis 7.0 prints it: on names (Kubernetes), and on IPs with an empty hostname.
const ON_NAMES = [
  "aaa 10.1.0.5:6379@16379,redis-shard-0-0.redis.fg.svc.cluster.local myself,master - 0 0 1 connected 0-5460",
  "bbb 10.1.0.6:6379@16379,redis-shard-0-1.redis.fg.svc.cluster.local slave aaa 0 1700000000000 1 connected",
  "ccc 10.1.0.7:6379@16379,redis-shard-0-2.redis.fg.svc.cluster.local slave,fail aaa 0 1700000000000 1 disconnected",
  "ddd 10.1.0.8:6379@16379,redis-shard-1-0.redis.fg.svc.cluster.local master - 0 1700000000000 2 connected 5461-16383",
].join("\r\n");
const ON_IPS = "eee 127.0.0.1:17001@27001, myself,master - 0 0 1 connected 0-16383\n";

const named = (pod: string) => ({ host: `${pod}.redis.fg.svc.cluster.local`, port: 6379 });

describe("parseClusterNodes", () => {
  it("reads id, address, announced name, flags, master and slots of every line", () => {
    const [first, second] = parseClusterNodes(ON_NAMES);

    expect(first).toEqual({
      id: "aaa",
      ip: "10.1.0.5",
      port: 6379,
      hostname: "redis-shard-0-0.redis.fg.svc.cluster.local",
      flags: ["myself", "master"],
      connected: true,
      slots: ["0-5460"],
    });
    expect(second).toMatchObject({ id: "bbb", masterId: "aaa", flags: ["slave"], slots: [] });
  });

  it("leaves the hostname out where a node announces none", () => {
    expect(parseClusterNodes(ON_IPS)[0]).not.toHaveProperty("hostname");
  });
});

describe("isNode", () => {
  const master = first(parseClusterNodes(ON_NAMES), "a CLUSTER NODES entry on names");
  const local = first(parseClusterNodes(ON_IPS), "a CLUSTER NODES entry on IPs");

  it.each([
    ["its pod's DNS name", true, master, named("redis-shard-0-0")],
    ["another pod's name", false, master, named("redis-shard-1-0")],
    ["its name on another port", false, master, { ...named("redis-shard-0-0"), port: 6380 }],
    ["the IP it reports, when it announces a name", false, master, { host: "10.1.0.5", port: 6379 }],
    ["its ip:port, when it announces no name", true, local, { host: "127.0.0.1", port: 17001 }],
    ["another port, when it announces no name", false, local, { host: "127.0.0.1", port: 17002 }],
  ])("an entry is the node at %s: %s", (_what, expected, entry, address) => {
    expect(isNode(entry, address)).toBe(expected);
  });
});

describe("myself and healthyReplicas", () => {
  it("finds the answering node and only the replicas of a master that are linked and not failing", () => {
    const view = parseClusterNodes(ON_NAMES);

    expect(myself(view)?.id).toBe("aaa");
    expect(healthyReplicas(view, "aaa").map((n) => n.id)).toEqual(["bbb"]);
    expect(healthyReplicas(view, "ddd")).toEqual([]);
  });
});
