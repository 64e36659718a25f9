import { buildDeployConfig } from "../../../test/support/deploy-config";
import { recordResources, registeredOutputs, settle, settleRegistrations } from "../../../test/support/pulumi-mocks";
import type * as staticBucket from "./static-bucket";

// The component alone, from its narrow args: no network resource, no addresses, two images.
describe("StaticBucket (Docker, mocks)", () => {
  let bucket: staticBucket.StaticBucket;

  beforeAll(async () => {
    await recordResources("docker");
    // Required here, not imported: Pulumi's mocks must be set before any resource is declared.
    const { StaticBucket } = require("./static-bucket") as typeof staticBucket;
    const { topology, secrets } = buildDeployConfig("docker");
    bucket = new StaticBucket("bucket", {
      network: "fg-alone",
      cfg: { topology, secrets },
      images: { objectStore: "seaweedfs:test", app: "floodgate-services:test" },
    });
    await settleRegistrations();
  });

  it("resolves the volumes dependents mount to the volumes' names", async () => {
    expect(await settle(bucket.publishVolume)).toBe("static-publish");
    expect(await settle(bucket.edgeVolume)).toBe("static-edge");
  });

  it("resolves ready to the bucket-init job once it exited 0", async () => {
    const job = await settle(bucket.ready);
    expect(await settle(job.urn)).toMatch(/docker:index\/container:Container::bucket-bucket-init$/);
  });

  it("registers the outputs it exposes, and nothing else", async () => {
    const registered = await registeredOutputs(await settle(bucket.urn));
    expect(Object.keys(registered).sort()).toEqual(
      ["buckets", "edgeVolume", "endpoint", "publishVolume", "ready"].sort(),
    );
    expect(registered).toMatchObject({
      endpoint: bucket.endpoint,
      buckets: bucket.buckets,
      publishVolume: "static-publish",
      edgeVolume: "static-edge",
    });
  });
});
