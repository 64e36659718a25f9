import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withSecrets } from "../deployment";
import { clusterFormScript, redisContainerCommand, redisRestartDelayMs } from "../render";
import { hostPort, redisNodeCount } from "../topology";
import { NAMES } from "./addresses";
import { PATHS, type KubernetesContext } from "./context";
import { runAsImageUser, volumesOwnedBy } from "./image-users";
import { clusterServiceSpec, scriptJobSpec, secretEnv } from "./object-specs";
import { kubernetesRedisConf } from "./mounted-files";
import { clientLabels, commandProbes, dataStorePolicy, podLabels, resources, sizeOf, volumeClaim } from "./pod-spec";

/** Redis Cluster: a StatefulSet of masters × (1 + replicas) nodes with volumes, stable pod DNS, and the Job that forms it. */
export class RedisCluster extends pulumi.ComponentResource {
  /** The forming Job (it ends once cluster_state is ok): every client waits for it. */
  readonly ready: k8s.batch.v1.Job;

  constructor(name: string, ctx: KubernetesContext, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:RedisCluster", name, {}, opts);
    const { cfg, addresses: a, namespace } = ctx;
    const t = cfg.topology;
    const port = t.redis.basePort;
    const secret = ctx.podSecrets.secret(
      `${name}-secrets`,
      "redis-secrets",
      pulumi.all(cfg.secrets).apply((values) => ({
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
        // Nodes must resolve each other (and the forming Job them) before the cluster is up.
        spec: clusterServiceSpec(
          NAMES.redis,
          { redis: port, bus: port + 10000 },
          { clusterIP: "None", publishNotReadyAddresses: true },
        ),
      },
      { parent: this },
    );
    const statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-nodes`,
      {
        metadata: { name: NAMES.redis, namespace },
        spec: {
          serviceName: NAMES.redis,
          replicas: redisNodeCount(t),
          podManagementPolicy: "Parallel",
          selector: { matchLabels: { "app.kubernetes.io/name": NAMES.redis } },
          template: ctx.podSecrets.template({
            metadata: { labels: podLabels(NAMES.redis) },
            spec: {
              // The data volume is the redis user's to write (the image runs redis-server as redis).
              securityContext: volumesOwnedBy("redis"),
              containers: [
                {
                  name: "redis",
                  image: cfg.images.redis,
                  // A restarted node sits out its replica's failover before serving (see redisContainerCommand).
                  command: redisContainerCommand(t, {
                    confFile: `${PATHS.redisConf}/redis.conf`,
                    dataDir: PATHS.redisData,
                  }),
                  env: [auth],
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
                    // Not killed while it sits out a failover after a restart.
                    30 + Math.ceil(redisRestartDelayMs(t) / 1000),
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
        },
      },
      { parent: this },
    );
    // The same script as on Docker: forms the cluster only when no node knows another, waits for
    // cluster_state:ok, and fails (never hangs `pulumi up`) when a node does not answer.
    this.ready = new k8s.batch.v1.Job(
      `${name}-form`,
      {
        metadata: { name: "redis-cluster-form", namespace },
        spec: ctx.podSecrets.spec(
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
      { parent: this, dependsOn: [statefulSet] },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-policy`,
      {
        metadata: { name: "redis", namespace },
        spec: dataStorePolicy("redis", { "app.kubernetes.io/name": NAMES.redis }),
      },
      { parent: this },
    );
    this.registerOutputs({ nodes: a.redis.map(hostPort) });
  }
}
