/**
 * The Docker target's real program (infra/index.ts, with the example stack file Pulumi.docker.yaml
 * and test overrides) run under the engine provider in its own process, as `pulumi up` runs it.
 * argv[2]: the images' tag (floodgate/<component>:<tag>, built by `npm run images -- --tag T`);
 * argv[3]: a JSON object of stack config overrides. Prints the provider's record as the last stdout
 * line and exits non-zero when a registration or a one-shot job failed, the error on stderr.
 *
 * Not yet run by a test (issue 16): the program still runs the official upstream images' layouts
 * (paths, entry points, wget/curl health checks), which these Debian-built images do not have, so
 * today it stops at the first servers. Run it by hand to see where:
 *   node_modules/.bin/node --import tsx test/docker/docker-target.fixture.ts 0.1.0 \
 *     '{"publicPort":18580,"adminPort":19590,"dockerSubnet":"172.31.0.0/16"}'
 * and remove what it made with removeLabelled(docker, "docker-target") (infra/testing/engine-provider.ts).
 * The object store has no image here yet: it is given the services image, so the bucket fails.
 */
import Docker from "dockerode";
import * as pulumi from "@pulumi/pulumi";
import type { RawStackConfig } from "../../infra/config";
import { EngineProvider, runAsProgram } from "../../infra/testing/engine-provider";
import { useStackConfig } from "../../infra/testing/stack-config";

const [tag, overridesJson] = process.argv.slice(2);
const overrides = JSON.parse(overridesJson ?? "{}") as RawStackConfig;
const image = (c: string) => `floodgate/${c}:${tag}`;
const images: RawStackConfig = {
  buildAppImage: false,
  appImage: image("services"),
  mariadbImage: image("mariadb"),
  redisImage: image("redis"),
  rabbitmqImage: image("rabbitmq"),
  nginxImage: image("nginx"),
  prometheusImage: image("prometheus"),
  alertmanagerImage: image("alertmanager"),
  mysqldExporterImage: image("mysqld-exporter"),
  redisExporterImage: image("redis-exporter"),
  nginxExporterImage: image("nginx-exporter"),
  nodeExporterImage: image("node-exporter"),
  objectStoreImage: image("services"),
};

const provider = new EngineProvider({
  docker: new Docker(),
  owner: "docker-target",
  log: (m) => process.stdout.write(`  [engine] ${m}\n`),
});
runAsProgram(
  provider,
  () => {
    useStackConfig("docker", { ...images, ...overrides });
    const outputs = require("../../infra/index") as Record<string, pulumi.Output<string>>;
    const exported: Record<string, string> = {};
    for (const [k, o] of Object.entries(outputs)) if (pulumi.Output.isInstance(o)) o.apply((v) => (exported[k] = v));
    return exported;
  },
  (exported) => ({ outputs: exported }),
  2000,
);
