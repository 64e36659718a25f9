import { clusterHealth } from "../../infra/targets/local/components/redis";
import { stackPid } from "../flash-sales/support";
import { buildUser, call, replicaBase } from "../support/api";
import { buildProduct } from "../support/db";
import { masterOfKey } from "../support/redis";
import { eventually, testAddresses, testTopology } from "../stack/clients";

type Page = { items: Array<{ id: number }> };
const ctx = () => ({ topology: testTopology(), addresses: testAddresses() });

/** Warm both replicas' L1 with a fresh user's empty list, order on replica 0, read on both: the ids each sees. */
async function orderAndRead(productId: number): Promise<{ ordered: number; seen: number[][] }> {
  const user = await buildUser();
  for (const replica of [0, 1]) await call("GET", "/orders", { token: user.token, base: replicaBase(replica) });
  const order = await call<{ id: number }>("POST", "/orders", {
    token: user.token,
    body: { productId },
    base: replicaBase(0),
  });
  const seen: number[][] = [];
  for (const replica of [0, 1]) {
    const list = await call<Page>("GET", "/orders", { token: user.token, base: replicaBase(replica) });
    seen.push(list.body.items.map((o) => o.id));
  }
  return { ordered: order.body.id, seen };
}

describe("cache invalidations when the Redis master holding their channel is killed", () => {
  afterAll(async () => {
    // Leave the cluster as the other tests expect it: the killed node back, every master with a replica.
    await eventually(async () => ((await clusterHealth(ctx())).ok ? true : undefined), 60_000, 500);
  });

  it("reach every API replica again once a replica has taken over, and at once from then on", async () => {
    const product = await buildProduct();
    const before = await orderAndRead(product.id);
    expect(before.seen).toEqual([[before.ordered], [before.ordered]]);

    process.kill(stackPid(await masterOfKey("{floodgate:cache}:invalidate")), "SIGKILL");
    // During the failover a write's invalidation may wait; once it is over, the subscribers follow
    // the channel to its new master.
    await eventually(
      async () => {
        const r = await orderAndRead(product.id);
        return r.seen.every((ids) => ids.length === 1 && ids[0] === r.ordered) ? true : undefined;
      },
      30_000,
      250,
    );
    for (let round = 0; round < 10; round++) {
      const r = await orderAndRead(product.id);
      expect({ round, seen: r.seen }).toEqual({ round, seen: [[r.ordered], [r.ordered]] });
    }
  });
});
