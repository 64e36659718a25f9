import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { clusterFormScript, redisContainerCommand, renderRedisConf } from "../../render";
import type { Topology } from "../../topology";
import { redisName } from "../../topology";
import { redisIp } from "./addresses";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { oneShotJob, type OneShotJob } from "./one-shot";
import { REDIS_AUTH_FILES, redisAuthJob, redisCredentialsVolume, type RedisAuthJobArgs } from "./redis-auth";

/**
 * One node's redis.conf on Docker: data in its volume, the log on stdout, listening on every
 * interface, the users and replication credentials in its volume (redis-auth.ts) — so it holds
 * no secret, and a rotated password changes no node.
 */
export function dockerRedisConf(t: Topology, port: number): string {
  return renderRedisConf(t, {
    port,
    bindHost: "0.0.0.0",
    paths: { dir: PATHS.redisData, pidFile: "/tmp/redis.pid", logFile: '""' },
    auth: REDIS_AUTH_FILES,
  });
}

/** What RedisCluster reads: the auth jobs' inputs (the nodes' addresses among them) and the subnet. */
export interface RedisClusterArgs extends RedisAuthJobArgs, Pick<DockerContext, "subnet"> {}

/** Redis Cluster: one container per node at a fixed address with its own volume, and a re-runnable forming job. */
export class RedisCluster extends pulumi.ComponentResource {
  /** The forming job, once it succeeded: clients wait for it. */
  readonly ready: pulumi.Output<pulumi.Resource>;
  /** The job that wrote (or, on a rotation, added) the users, once it succeeded: finishAuth runs after every client. */
  readonly prepared: pulumi.Output<pulumi.Resource>;
  /** What the finishing auth job needs of the construction: the args, the nodes' volumes and the auth jobs' own volume. */
  private readonly auth: {
    args: RedisAuthJobArgs;
    volumes: pulumi.Output<string>[];
    credentials: pulumi.Output<string>;
  };

  constructor(name: string, args: RedisClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:RedisCluster", name, {}, opts);
    const t = args.cfg.topology;
    const containers: docker.Container[] = [];
    const nodes = args.addresses.redis.map((address, i) => {
      const container = redisName(i);
      const volume = new docker.Volume(`${name}-${container}-data`, { name: `${container}-data` }, { parent: this });
      return { address, container, volume };
    });
    const credentials = redisCredentialsVolume(`${name}-credentials`, this);
    this.auth = { args, volumes: nodes.map((n) => n.volume.name), credentials: credentials.name };
    const prepare = redisAuthJob(`${name}-auth`, "prepare", args, this.auth.volumes, this.auth.credentials, {
      parent: this,
    });
    this.prepared = prepare.succeeded;
    nodes.forEach(({ address: node, container, volume }, i) => {
      const previous = containers.at(-1); // the node created just before this one
      const created = new docker.Container(
        `${name}-${container}`,
        {
          name: container,
          image: args.images.redis,
          // A restarted node sits out its replica's failover before serving (see redisContainerCommand).
          // Run as the image's redis user: the `sh -c` wrapper starts no privileged entry point here.
          command: redisContainerCommand(t, { confFile: PATHS.redisConf, dataDir: PATHS.redisData }),
          uploads: [{ file: PATHS.redisConf, content: dockerRedisConf(t, node.port) }],
          volumes: [{ volumeName: volume.name, containerPath: PATHS.redisData }],
          networksAdvanced: onNetwork(args.network, container, redisIp(args.subnet, i)),
          // NOAUTH still proves the server answers, so the check needs no password in this container.
          healthcheck: healthcheck(`redis-cli -p ${node.port} ping 2>&1 | grep -qE 'PONG|NOAUTH'`),
          ...limits("redis", t),
          ...LONG_RUNNING,
        },
        // One node at a time: a change that replaces them (a new image, a config change) restarts
        // each after the one before is healthy, never the cluster at once. A rotated password
        // replaces none: the auth job applies it in place.
        { parent: this, deleteBeforeReplace: true, dependsOn: [this.prepared, ...(previous ? [previous] : [])] },
      );
      containers.push(created);
    });
    this.ready = oneShotJob(
      `${name}-form`,
      {
        name: "redis-cluster-form",
        image: args.images.redis,
        // redis-cli reads the password from REDISCLI_AUTH, so it never shows in a process list.
        envs: [pulumi.interpolate`REDISCLI_AUTH=${args.cfg.secrets.redisAdminPassword}`],
        entrypoints: ["sh", "-c"],
        command: [clusterFormScript(args.addresses.redis, t.redis.replicasPerMaster)],
        networksAdvanced: onNetwork(args.network, "redis-cluster-form"),
        ...limits("job", t),
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: containers },
      Object.values(args.cfg.secrets),
    ).succeeded;
    this.registerOutputs({ ready: this.ready, prepared: this.prepared });
  }

  /**
   * The rotation's second phase, once `clients` (everything holding a Redis password) run with
   * the configured passwords: every user keeps only its configured password.
   */
  finishAuth(clients: pulumi.Input<pulumi.Resource>[]): OneShotJob {
    const { args, volumes, credentials } = this.auth;
    return redisAuthJob("redis-auth-finish", "finish", args, volumes, credentials, {
      parent: this,
      dependsOn: [this.ready, ...clients],
    });
  }
}
