/**
 * A small Docker program run under the engine provider as its own process, as `pulumi up` runs a
 * program: argv[2] is the base image, argv[3] a secret. Prints the provider's record as the last stdout line (JSON)
 * and exits non-zero when a registration or a one-shot job failed, with the error on stderr.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import Docker from "dockerode";
import { oneShotJob } from "../../infra/targets/docker/one-shot";
import { EngineProvider, runAsProgram } from "../support/engine-provider";

const [base, SECRET] = process.argv.slice(2);
if (base === undefined || SECRET === undefined)
  throw new Error("usage: small-program.fixture.ts <base image> <secret>");
const provider = new EngineProvider({
  docker: new Docker(),
  owner: "small-program",
  log: (m) => process.stdout.write(`  [engine] ${m}\n`),
});

const program = () => {
  const image = new docker.RemoteImage("base", { name: base, keepLocally: true });
  const net = new docker.Network("net", {
    name: "fg-engine-test",
    driver: "bridge",
    ipamConfigs: [{ subnet: "172.30.77.0/24" }],
  });
  const data = new docker.Volume("data", { name: "fg-engine-test-data" });
  const server = new docker.Container("server", {
    name: "fg-engine-server",
    image: image.imageId,
    user: "nobody",
    command: ["sh", "-c", "exec sleep 600"],
    uploads: [{ file: "/etc/fg/conf", content: pulumi.secret(`password ${SECRET}\n`) }],
    volumes: [{ volumeName: data.name, containerPath: "/data" }],
    networksAdvanced: [{ name: net.name, aliases: ["server"] }],
    ports: [{ internal: 8080, external: 18977 }],
    healthcheck: { tests: ["CMD-SHELL", "test -r /etc/fg/conf"], interval: "1s", timeout: "1s", retries: 3 },
    memory: 64,
    memorySwap: 64,
    restart: "unless-stopped",
    mustRun: true,
    wait: true,
    waitTimeout: 30,
  });
  const job = (name: string, script: string, dependsOn: pulumi.Input<pulumi.Resource>[]) =>
    oneShotJob(
      name,
      {
        name,
        image: image.imageId,
        entrypoints: ["sh", "-c"],
        command: [script],
        networksAdvanced: [{ name: net.name }],
      },
      { dependsOn },
      [pulumi.secret(SECRET)],
    );
  const ok = job("fg-engine-ok", "getent hosts server", [server]);
  const bad = job("fg-engine-bad", `for i in $(seq 1 30); do echo line $i; done; echo "using ${SECRET}"; exit 3`, [
    ok.succeeded,
  ]);
  new docker.Container(
    "after",
    { name: "fg-engine-after", image: image.imageId, command: ["true"], attach: true },
    {
      dependsOn: [bad.succeeded],
    },
  );
};

runAsProgram(provider, program);
