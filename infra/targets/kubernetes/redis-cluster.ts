import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { secretValues, withSecrets } from "../../deployment";
import {
  clusterFormScript,
  REDIS_HOSTNAME_ENV,
  REDIS_RESOLVE_WAIT_SECONDS,
  redisContainerCommand,
  redisRestartDelayMs,
} from "../../render";
import type { DeployConfig } from "../../deployment";
import { firstAddress, NAMES } from "../../topology";
import { redisPod, redisShardName } from "./addresses";
import { disruptionBudget, groupLabels, KEEP_CLAIMS, placement } from "./availability";
import { PATHS, type KubernetesContext } from "./context";
import { runAsImageUser, volumesOwnedBy } from "./image-users";
import { clusterServiceSpec, scriptJobSpec, secretEnv } from "./object-specs";
import { kubernetesRedisConf } from "./mounted-files";
import { clientLabels, commandProbes, dataStorePolicy, podLabels, resources, sizeOf, volumeClaim } from "./pod-spec";

/** What RedisCluster reads: the nodes' addresses, the namespace, the Secrets registry and the deployment's secrets, image and storage. */
export interface RedisClusterArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images" | "kubernetes">;
}

/**
 * Redis Cluster: one StatefulSet per shard (a master and its own replicas, never two on one node,
 * with a disruption budget), every pod named through one headless Service; nodes announce those
 * names, so a cluster whose pods all restarted on new IPs finds itself again (redisStartScript);
 * and the Job that forms it, each replica following its own shard's master.
 */
export class RedisCluster extends pulumi.ComponentResource {
  /** The forming Job (it ends once cluster_state is ok): every client waits for it. */
  readonly ready: pulumi.Resource;

  constructor(name: string, args: RedisClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:RedisCluster", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const port = t.redis.basePort;
    const secret = args.podSecrets.secret(
      `${name}-secrets`,
      "redis-secrets",
      secretValues(cfg.secrets).apply((values) => ({
        "redis.conf": kubernetesRedisConf(withSecrets(t, values)),
        adminPassword: values.redisAdminPassword,
      })),
      { parent: this },
    );
    // REDISCLI_AUTH keeps the password out of process arguments.
    const auth = secretEnv("REDISCLI_AUTH", secret.metadata.name, "adminPassword");
    new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata: { name: NAMES.redis, namespace },
        // Nodes must resolve each other (and the forming Job them) before the cluster is up, and a
        // restarted node its peers' new addresses before it starts.
        spec: clusterServiceSpec(
          NAMES.redis,
          { redis: port, bus: port + 10000 },
          { clusterIP: "None", publishNotReadyAddresses: true },
        ),
      },
      { parent: this },
    );
    // Each pod's DNS name, as its address says: `$(POD_NAME)` and the headless Service's domain.
    const { host } = firstAddress(a, "redis");
    const domain = host.slice(host.indexOf("."));
    const shards = Array.from({ length: t.redis.masters }, (_, shard) => {
      const set = redisShardName(shard);
      const pods = a.redis.filter((_, i) => redisPod(t, i).shard === shard).length;
      disruptionBudget(`${name}-${set}-budget`, set, namespace, { parent: this });
      return new k8s.apps.v1.StatefulSet(
        `${name}-${set}`,
        {
          metadata: { name: set, namespace },
          spec: {
            serviceName: NAMES.redis,
            replicas: pods,
            podManagementPolicy: "Parallel",
            selector: { matchLabels: { "app.kubernetes.io/name": NAMES.redis, ...groupLabels(set) } },
            template: args.podSecrets.template({
              // The name label is what the headless Service and the NetworkPolicy select.
              metadata: { labels: { ...podLabels(NAMES.redis), ...groupLabels(set) } },
              spec: {
                // A master and its replicas never on one node, whichever of them is master after failovers.
                ...placement(set, "hard"),
                // The data volume is the redis user's to write (the image runs redis-server as redis).
                securityContext: volumesOwnedBy("redis"),
                containers: [
                  {
                    name: "redis",
                    image: cfg.images.redis,
                    // Rewrites nodes.conf to the peers' addresses now and sits out its replica's
                    // failover after a restart, then announces the pod's name (see redisStartScript).
                    command: redisContainerCommand(t, {
                      confFile: `${PATHS.redisConf}/redis.conf`,
                      dataDir: PATHS.redisData,
                    }),
                    env: [
                      auth,
                      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                      { name: REDIS_HOSTNAME_ENV, value: `$(POD_NAME)${domain}` },
                    ],
                    ports: [
                      { name: "redis", containerPort: port },
                      { name: "bus", containerPort: port + 10000 },
                    ],
                    volumeMounts: [
                      { name: "data", mountPath: PATHS.redisData },
                      { name: "conf", mountPath: PATHS.redisConf, readOnly: true },
                    ],
                    resources: resources(sizeOf(t, "redis")),
                    securityContext: runAsImageUser("redis"),
                    ...commandProbes(
                      ["sh", "-c", `redis-cli -p ${port} --user admin --no-auth-warning PING | grep -q PONG`],
                      port,
                      // Not killed while it waits for its peers' names and sits out a failover after a restart.
                      30 + REDIS_RESOLVE_WAIT_SECONDS + Math.ceil(redisRestartDelayMs(t) / 1000),
                    ),
                  },
                ],
                volumes: [
                  {
                    name: "conf",
                    secret: { secretName: secret.metadata.name, items: [{ key: "redis.conf", path: "redis.conf" }] },
                  },
                ],
              },
            }),
            volumeClaimTemplates: [volumeClaim("data", cfg.kubernetes.storageClass, cfg.kubernetes.volumeGi.redis)],
            persistentVolumeClaimRetentionPolicy: KEEP_CLAIMS,
          },
        },
        { parent: this },
      );
    });
    // The same script as on Docker, on the pods' names: creates the cluster from each shard's pod 0,
    // adds each shard's other pods as its replicas, touches no node that knows another, waits for
    // cluster_state:ok, and fails (never hangs `pulumi up`) when a node does not answer.
    this.ready = new k8s.batch.v1.Job(
      `${name}-form`,
      {
        metadata: { name: "redis-cluster-form", namespace },
        spec: args.podSecrets.spec(
          scriptJobSpec({
            image: cfg.images.redis,
            imageUser: "redis",
            script: clusterFormScript(a.redis, t.redis.replicasPerMaster),
            env: [auth],
            labels: clientLabels("redis"),
            size: sizeOf(t, "job"),
          }),
        ),
      },
      { parent: this, dependsOn: shards },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-policy`,
      {
        metadata: { name: "redis", namespace },
        spec: dataStorePolicy("redis", { "app.kubernetes.io/name": NAMES.redis }),
      },
      { parent: this },
    );
    this.registerOutputs({ ready: this.ready });
  }
}
