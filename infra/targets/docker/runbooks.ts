import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { STACK_FILE_PATH, type StackFileInput } from "../stack-file";
import {
  redisNodeCount,
  WORKER_KINDS,
  type Addresses,
  type Topology,
  apiName,
  apiSlots,
  mysqldExporterName,
  mysqlReplicaName,
  NAMES,
  rabbitmqName,
  redisName,
  workerName,
} from "../../topology";
import { backupEnv, type BackupTarget } from "./backups";
import { mysqlVolumeName } from "./mysql-primary-replica";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import type { DeployConfig } from "../../deployment";
import type { DockerContext } from "./context";

/** The Docker Engine API socket, mounted at the same path inside the runbooks container. */
export const DOCKER_SOCKET = "/var/run/docker.sock";

/** Keeps the container up doing nothing: on-call `docker exec`s the runbooks into it. */
export const IDLE_COMMAND = ["node", "-e", "setInterval(() => {}, 1 << 30)"];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Every container that runs a stack process (jobs, the bucket and its sidecars are not), by its local-stack name. */
export function dockerProcessNames(t: Topology): string[] {
  return [
    NAMES.mysqlPrimary,
    ...range(t.mysql.replicas).map((i) => mysqlReplicaName(i + 1)),
    ...range(redisNodeCount(t)).map(redisName),
    ...range(t.rabbitmq.nodes).map(rabbitmqName),
    ...range(apiSlots(t)).map(apiName),
    ...WORKER_KINDS.flatMap((kind) => range(t.workers[kind].processes).map((i) => workerName(kind, i))),
    NAMES.tracker,
    NAMES.nginx,
    NAMES.prometheus,
    NAMES.alertmanager,
    NAMES.nodeExporter,
    NAMES.nginxExporter,
    NAMES.redisExporter,
    ...range(1 + t.mysql.replicas).map(mysqldExporterName),
    NAMES.autoscaler,
    NAMES.backups,
  ];
}

/** What the stack file is built from; `topology` must carry the real secrets. */
export interface DockerStackFileArgs {
  topology: Topology;
  addresses: Addresses;
  mysqlRootPassword: string;
  backupTarget: BackupTarget;
  bucketKeys: { access: string; secret: string };
}

/** The runbook stack file of a Docker stack (pure): it holds every secret, so upload it only as a secret. */
export function dockerStackFile(args: DockerStackFileArgs): StackFileInput {
  const { topology: t, addresses: a } = args;
  // The very lines the backups container gets, so backup-now and restore act exactly as it does.
  const env = backupEnv(t, a, args.backupTarget, args.bucketKeys);
  const mysqlServers = new Set([NAMES.mysqlPrimary, ...range(t.mysql.replicas).map((i) => mysqlReplicaName(i + 1))]);
  return {
    target: "docker",
    topology: t,
    addresses: a,
    mysqlAdmin: { user: "root", password: args.mysqlRootPassword },
    processes: dockerProcessNames(t).map((name) =>
      // mysql-failover moves data between the MariaDB servers' volumes (mysql-primary-replica.ts names them).
      mysqlServers.has(name) ? { name, volume: mysqlVolumeName(name) } : { name },
    ),
    docker: { socket: DOCKER_SOCKET, container: NAMES.runbooks },
    backupEnv: Object.fromEntries(
      env.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    ),
  };
}

/** What Runbooks reads: the addresses and secrets it writes into the stack file, the network, the app image and the backups' bucket. */
export interface RunbooksArgs extends Pick<DockerContext, "addresses" | "network" | "secretTopology"> {
  cfg: Pick<DeployConfig, "topology" | "secrets">;
  images: Pick<DockerContext["images"], "app">;
  /** Where the backups service writes (the same bucket backup-now and restore use). */
  backupTarget: BackupTarget;
}

/**
 * The `runbooks` container: the app image idling on the private network with the stack file and
 * the Docker socket, where on-call runs `docker exec -it runbooks node dist/runbooks/main.js …`.
 */
export class Runbooks extends pulumi.ComponentResource {
  constructor(name: string, args: RunbooksArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:Runbooks", name, {}, opts);
    const s = args.cfg.secrets;
    // Secret twice over, like the secret topology: it holds every password of the stack.
    const stackFile = pulumi.secret(
      pulumi
        .all([args.secretTopology, s.mysqlRootPassword, s.bucketAccessKey, s.bucketSecretKey])
        .apply(([topology, mysqlRootPassword, access, secret]) =>
          JSON.stringify(
            dockerStackFile({
              topology,
              addresses: args.addresses,
              mysqlRootPassword,
              backupTarget: args.backupTarget,
              bucketKeys: { access, secret },
            }),
            null,
            2,
          ),
        ),
    );
    new docker.Container(
      `${name}-shell`,
      {
        name: NAMES.runbooks,
        image: args.images.app,
        command: IDLE_COMMAND,
        uploads: [{ file: STACK_FILE_PATH, content: stackFile }],
        // Runbooks start and stop containers through the Docker API: root-equivalent, like the autoscaler's.
        volumes: [{ hostPath: DOCKER_SOCKET, containerPath: DOCKER_SOCKET }],
        // The socket belongs to root:docker; the app image runs as a non-root user.
        user: "root",
        networksAdvanced: onNetwork(args.network, NAMES.runbooks),
        // The image's own check probes the API; here the container is ready once its stack file is.
        healthcheck: healthcheck(`test -s ${STACK_FILE_PATH}`),
        ...limits("runbooks", args.cfg.topology),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    // Nothing depends on a part of it: the Redis rotation's finishing job waits for the whole component.
    this.registerOutputs({});
  }
}
