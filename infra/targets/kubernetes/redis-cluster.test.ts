import { buildDeployConfig } from "../../../test/support/deploy-config";
import { componentOutputs, recordResources, settle, settleRegistrations } from "../../../test/support/pulumi-mocks";
import { kubernetesAddresses } from "./addresses";
import type * as podSecrets from "./pod-secrets";
import type * as redisCluster from "./redis-cluster";

/** What the component registered, once the SDK sent it (after every output resolved). */
async function registeredOutputs(urn: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const found = componentOutputs.find((c) => c.urn === urn);
    if (found) return found.outputs;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${urn} registered no outputs within ${timeoutMs} ms`);
}

// The component alone, from its narrow args: a namespace name instead of a Namespace resource.
describe("RedisCluster (Kubernetes, mocks)", () => {
  let redis: redisCluster.RedisCluster;

  beforeAll(async () => {
    await recordResources("kubernetes");
    // Required here, not imported: Pulumi's mocks must be set before any resource is declared.
    const { RedisCluster } = require("./redis-cluster") as typeof redisCluster;
    const { PodSecrets } = require("./pod-secrets") as typeof podSecrets;
    const { topology, secrets, images, kubernetes } = buildDeployConfig("kubernetes");
    const namespace = "fg-alone";
    redis = new RedisCluster("redis", {
      addresses: kubernetesAddresses(topology, { namespace }),
      namespace,
      podSecrets: new PodSecrets(namespace),
      cfg: { topology, secrets, images, kubernetes },
    });
    await settleRegistrations();
  });

  it("resolves ready to the Job that forms the cluster", async () => {
    expect(await settle(redis.ready.urn)).toMatch(/kubernetes:batch\/v1:Job::redis-form$/);
  });

  it("registers ready, the one output it exposes", async () => {
    const registered = await registeredOutputs(await settle(redis.urn));
    expect(Object.keys(registered)).toEqual(["ready"]);
    expect(JSON.stringify(registered.ready)).toContain(await settle(redis.ready.urn));
  });
});
