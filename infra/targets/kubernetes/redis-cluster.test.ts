import { buildDeployConfig } from "../../../test/support/deploy-config";
import { recordResources, registeredOutputs, settle, settleRegistrations } from "../../../test/support/pulumi-mocks";
import { kubernetesAddresses } from "./addresses";
import type * as podSecrets from "./pod-secrets";
import type * as redisCluster from "./redis-cluster";

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
