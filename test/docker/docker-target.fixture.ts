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
 * and remove what it made with removeLabelled (infra/testing/engine-provider.ts).
 * The object store has no image here yet: it is given the services image, so the bucket fails.
 */
import Docker from "dockerode";
import * as pulumi from "@pulumi/pulumi";
import type { RawStackConfig } from "../../infra/config";
import { EngineProvider, deployOnEngine } from "../../infra/testing/engine-provider";
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

const provider = new EngineProvider({ docker: new Docker(), log: (m) => process.stdout.write(`  [engine] ${m}\n`) });
const errors = new Set<string>();
process.on("unhandledRejection", (err) => {
  const message = err instanceof Error ? err.message : String(err);
  if (!errors.has(message)) process.stderr.write(`error: ${message}\n`);
  errors.add(message);
});

void (async () => {
  const started = Date.now();
  const outputs = await deployOnEngine(provider, () => {
    useStackConfig("docker", { ...images, ...overrides });
    return require("../../infra/index") as Record<string, pulumi.Output<string>>;
  });
  const exported: Record<string, string> = {};
  for (const [k, o] of Object.entries(outputs)) if (pulumi.Output.isInstance(o)) o.apply((v) => (exported[k] = v));
  await provider.idle(2000);
  const record = {
    seconds: (Date.now() - started) / 1000,
    outputs: exported,
    created: provider.created,
    jobs: Object.fromEntries([...provider.jobs].map(([k, v]) => [k, { exitCode: v.exitCode }])),
    failures: provider.failures.map((f) => `${f.resource}: ${f.error.message}`),
  };
  process.stdout.write(`${JSON.stringify(record)}\n`);
  process.exit(errors.size > 0 || provider.failures.length > 0 ? 1 : 0);
})();
