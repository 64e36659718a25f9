import { redisAdmin } from "../../scripts/stack/components/redis";
import { testAddresses, testTopology } from "../stack/clients";

const ctx = () => ({ topology: testTopology(), addresses: testAddresses() });

/** The stack name (redis-N) of the master currently serving the hash slot of `key`. */
export async function masterOfKey(key: string): Promise<string> {
  const [first] = testAddresses().redis;
  const slot = Number(await redisAdmin(ctx(), first, ["CLUSTER", "KEYSLOT", key]));
  const nodes = (await redisAdmin(ctx(), first, ["CLUSTER", "NODES"]))
    .trim()
    .split("\n")
    .map((l) => l.split(" "));
  const owner = nodes.find(
    (n) =>
      n[2].includes("master") &&
      n.slice(8).some((range) => {
        const [from, to = from] = range.split("-").map(Number);
        return slot >= from && slot <= to;
      }),
  )!;
  const port = Number(owner[1].split(":")[1].split("@")[0]);
  return `redis-${testAddresses().redis.findIndex((a) => a.port === port) + 1}`;
}
