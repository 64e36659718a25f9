/**
 * The Docker program's own MariaDB (MysqlPrimaryReplica: servers, bootstrap and replica jobs) and
 * API cluster (ApiCluster: its migrate job, then the API slots, workers and tracker that wait on
 * it) run under the engine provider in a process of its own, as `pulumi up` runs a program, on a
 * database that already holds a `users` table of another application's shape: migration 001's
 * CREATE TABLE fails in MariaDB. argv[2], argv[3]: the MariaDB and services images. Prints the
 * provider's record as the last stdout line (JSON; plus every container the program declared and
 * every resource output that resolved) and exits non-zero when a registration or a job failed.
 */
import Docker from "dockerode";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { withSecrets } from "../../infra/deployment";
import { dockerAddresses } from "../../infra/targets/docker/addresses";
import { ApiCluster } from "../../infra/targets/docker/api-cluster";
import type { DockerContext } from "../../infra/targets/docker/context";
import { MysqlPrimaryReplica } from "../../infra/targets/docker/mysql-primary-replica";
import { oneShotJob } from "../../infra/targets/docker/one-shot";
import { buildDeployConfig } from "../support/deploy-config";
import { EngineProvider, runAsProgram } from "../support/engine-provider";

const [mariadbImage, appImage] = process.argv.slice(2);
/** Container and volume names get this prefix: a deployment on the same Engine has the unprefixed ones. */
const PREFIX = "fgm-";
const SUBNET = "172.27.0.0/16";

const provider = new EngineProvider({
  docker: new Docker(),
  owner: "failing-migrate",
  log: (m) => process.stdout.write(`  [engine] ${m}\n`),
});

/** One output property of a resource, once resolved. */
interface ResolvedOutput {
  resource: string;
  property: string;
  secret: boolean;
  value: unknown;
}
const declared: string[] = [];
const resources: Array<{ name: string; resource: pulumi.CustomResource }> = [];
const outputs: ResolvedOutput[] = [];

type Healthcheck = docker.types.input.ContainerHealthcheck;

/**
 * Prefixes the Engine names (container names are global to the Engine) and probes health every
 * second rather than every 10 s (the servers are then seen healthy ~15 s sooner: on a 10 s interval
 * the first probe comes before a fresh datadir is initialised). Every other input, the network
 * aliases the containers reach each other by included, is the program's.
 */
const forThisEngine: pulumi.ResourceTransformation = ({ type, name, props, opts, resource }) => {
  if (resource instanceof pulumi.CustomResource) resources.push({ name, resource });
  if (type !== "docker:index/container:Container" && type !== "docker:index/volume:Volume") return undefined;
  const engineName = `${PREFIX}${String(props.name)}`;
  if (type === "docker:index/volume:Volume") return { props: { ...props, name: engineName }, opts };
  declared.push(engineName);
  const health = props.healthcheck as Healthcheck | undefined;
  const healthcheck = health && { ...health, interval: "1s" };
  return { props: { ...props, name: engineName, healthcheck }, opts };
};

/** Every output property of every resource, as it resolves, with whether Pulumi keeps it secret. */
function watchOutputs(): void {
  for (const { name, resource } of resources)
    for (const [property, o] of Object.entries(resource))
      if (pulumi.Output.isInstance(o) && property !== "urn")
        o.apply(async (value) => {
          outputs.push({ resource: name, property, secret: (await pulumi.isSecret(o)) === true, value: value ?? null });
          return value;
        });
}

const program = () => {
  // Small, so the servers start fast; one replica (the topology's minimum).
  const cfg = buildDeployConfig("docker", {
    dockerNetwork: "fg-failing-migrate",
    dockerSubnet: SUBNET,
    mariadbImage,
    appImage,
    topology: {
      mysql: { replicas: 1, bufferPoolMb: 64 },
      api: { replicas: 1 },
      autoscaling: { minReplicas: 1, maxReplicas: 2 },
      workers: { orders: { processes: 1, concurrency: 4 }, redPacketGrabs: { processes: 1, concurrency: 4 } },
    },
  });
  const t = cfg.topology;
  const watched = { transformations: [forThisEngine] };
  const network = new docker.Network(
    "network",
    { name: cfg.docker.network, driver: "bridge", ipamConfigs: [{ subnet: SUBNET }] },
    watched,
  );
  const image = (key: "mariadb" | "app") =>
    new docker.RemoteImage(`image-${key}`, { name: cfg.images[key], keepLocally: true }, watched).imageId;
  const ctx: DockerContext = {
    cfg,
    addresses: dockerAddresses(t, SUBNET),
    network: network.name,
    subnet: SUBNET,
    secretTopology: pulumi.secret(pulumi.all(cfg.secrets).apply((values) => withSecrets(t, values))),
    // Only these two run here: the other keys stay names nothing uses.
    images: { ...cfg.images, mariadb: image("mariadb"), app: image("app") },
  };
  const opts = { ...watched, dependsOn: [network] };
  const mysql = new MysqlPrimaryReplica("mysql", ctx, opts);

  // What a user may point floodgate at: a database another application already uses, with its own `users`.
  const { host, port } = ctx.addresses.mysqlPrimary;
  const legacy = oneShotJob(
    "legacy-users",
    {
      name: "legacy-users",
      image: ctx.images.mariadb,
      envs: [pulumi.interpolate`MYSQL_PWD=${cfg.secrets.mysqlRootPassword}`],
      entrypoints: ["mariadb", "--no-defaults", "-h", host, "-P", String(port), "-uroot", t.mysql.database, "-e"],
      command: ["CREATE TABLE users (id INT UNSIGNED NOT NULL PRIMARY KEY, email VARCHAR(254) NOT NULL)"],
      networksAdvanced: [{ name: network.name }],
    },
    { ...watched, dependsOn: [mysql.ready] },
    Object.values(cfg.secrets),
  );

  const staticVolume = new docker.Volume("static", { name: "static" }, watched);
  new ApiCluster(
    "api",
    { ...ctx, dependsOn: [mysql.ready, legacy.succeeded], staticVolume: staticVolume.name },
    { ...opts, dependsOn: [network, staticVolume] },
  );
  watchOutputs();
};

runAsProgram(provider, program, () => ({ declared, resourceOutputs: outputs }));
