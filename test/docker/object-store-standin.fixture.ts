/**
 * The Docker target's StaticBucket component alone, run under the engine provider in its own
 * process (as `pulumi up` runs a program), with s3rver standing in for SeaweedFS: the bucket
 * container, the bucket-init job and the two sync sidecars, on a network of their own.
 * argv[2]: the services image; argv[3]: the bucket secret key; argv[4]: the host's node_modules.
 * Prints the provider's record as the last stdout line; exits non-zero when anything failed.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import Docker from "dockerode";
import { withSecrets, type Images } from "../../infra/deployment";
import { dockerAddresses } from "../../infra/targets/docker/addresses";
import { BUCKET_PORTS } from "../../infra/targets/docker/bucket-scripts";
import type { DockerContext } from "../../infra/targets/docker/context";
import { StaticBucket } from "../../infra/targets/docker/static-bucket";
import { buildDeployConfig } from "../support/deploy-config";
import { EngineProvider, runAsProgram } from "../support/engine-provider";

const OWNER = "object-store-standin"; // the test removes what carries this label
const SUBNET = "172.30.88.0/24";

const [servicesImage, secretKey, hostModules] = process.argv.slice(2);
if (servicesImage === undefined || secretKey === undefined || hostModules === undefined) {
  throw new Error("usage: object-store-standin.fixture.ts <services image> <bucket secret key> <host node_modules>");
}
const base = buildDeployConfig("docker");
// s3rver accepts its own access key alone; the secret key is any value (it checks no signature).
const cfg = {
  ...base,
  secrets: { ...base.secrets, bucketAccessKey: pulumi.secret("S3RVER"), bucketSecretKey: pulumi.secret(secretKey) },
};
const provider = new EngineProvider({
  docker: new Docker(),
  owner: OWNER,
  log: (m) => process.stdout.write(`  [engine] ${m}\n`),
  objectStoreStandIn: { image: cfg.images.objectStore, runImage: servicesImage, hostModules, port: BUCKET_PORTS.s3 },
});

runAsProgram(provider, () => {
  const net = new docker.Network("net", { name: "fg-standin", driver: "bridge", ipamConfigs: [{ subnet: SUBNET }] });
  const pulled = (key: keyof Images, name: string) => new docker.RemoteImage(`image-${key}`, { name }).imageId;
  // Only the two images the component runs: any other would fail to start, named as unused.
  const unused = Object.keys(cfg.images).map((k) => [k, `unused-by-the-static-bucket:${k}`]);
  const images = {
    ...(Object.fromEntries(unused) as DockerContext["images"]),
    app: pulled("app", servicesImage),
    objectStore: pulled("objectStore", cfg.images.objectStore),
  };
  const ctx: DockerContext = {
    cfg,
    addresses: dockerAddresses(cfg.topology), // the component uses none of them
    network: net.name,
    subnet: SUBNET,
    secretTopology: pulumi.secret(pulumi.all(cfg.secrets).apply((v) => withSecrets(cfg.topology, v))),
    images,
  };
  new StaticBucket("bucket", ctx);
});
