/**
 * The Docker target's real program (infra/index.ts, with the example stack file Pulumi.docker.yaml
 * and test overrides) run under the engine provider in its own process, as `pulumi up` runs it:
 * every floodgate image is built from the program's own docker.Image inputs (staged context,
 * images/Dockerfile target, build arguments) on the real Engine; the object store's pinned
 * SeaweedFS image is the one thing replaced (by s3rver, see the provider's stand-in).
 * argv[2]: a JSON object of stack config overrides. Prints the provider's record as the last stdout
 * line and exits non-zero when a registration or a one-shot job failed, the error on stderr.
 *   node_modules/.bin/node --import tsx test/docker/docker-target.fixture.ts \
 *     '{"publicPort":18580,"adminPort":19590,"dockerSubnet":"172.31.0.0/16"}'
 * and remove what it made with removeLabelled(docker, "docker-target") (test/support/engine-provider.ts).
 */
import path from "node:path";
import Docker from "dockerode";
import * as pulumi from "@pulumi/pulumi";
import { TARGET_IMAGE_DEFAULTS, type RawStackConfig } from "../../infra/config";
import { EngineProvider, runAsProgram } from "../support/engine-provider";
import { buildImageInputs } from "../support/engine-image-build";
import { REPO_ROOT, useStackConfig } from "../support/stack-config";
import { BUCKET_PORTS } from "../../infra/targets/docker/bucket-scripts";

const [overridesJson] = process.argv.slice(2);
const overrides = JSON.parse(overridesJson ?? "{}") as RawStackConfig;
const docker = new Docker();
const log = (m: string) => process.stdout.write(`  [engine] ${m}\n`);

const provider = new EngineProvider({
  docker,
  owner: "docker-target",
  log,
  resolveImage: async (type, inputs) =>
    type === "docker:index/image:Image" ? buildImageInputs(docker, inputs, log) : String(inputs.name),
  // SeaweedFS, the one pulled image, cannot be pulled here: s3rver in the services image stands in.
  objectStoreStandIn: {
    image: TARGET_IMAGE_DEFAULTS.docker.objectStore,
    runImage: TARGET_IMAGE_DEFAULTS.docker.app,
    hostModules: path.join(REPO_ROOT, "node_modules"),
    port: BUCKET_PORTS.s3,
  },
});
runAsProgram(
  provider,
  () => {
    // s3rver, the object store's stand-in, accepts its own access key alone (and checks no signature).
    useStackConfig("docker", overrides, { bucketAccessKey: "S3RVER" });
    const outputs = require("../../infra/index") as Record<string, pulumi.Output<string>>;
    const exported: Record<string, string> = {};
    for (const [k, o] of Object.entries(outputs)) if (pulumi.Output.isInstance(o)) o.apply((v) => (exported[k] = v));
    return exported;
  },
  (exported) => ({ outputs: exported }),
  2000,
);
