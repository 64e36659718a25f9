import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NAMES, apiSlots } from "../../topology";
import { apiSlotName } from "./addresses";
import { APP_SECRET, appPodTemplate, appProcessEnv, migrationJobName, type AppProcess } from "./app-pod";
import { disruptionBudget } from "./availability";
import type { DeployConfig } from "../../deployment";
import type { KubernetesContext } from "./context";
import { Workers } from "./workers";

type Container = k8s.types.input.core.v1.Container;

/** What ApiCluster reads: the addresses, the namespace, the Secrets registry, the deployment's topology, secrets and app image, and the bucket's publisher and the stores' readiness. */
export interface ApiClusterArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images">;
  /** The static bucket's publisher sidecar for API pods (StaticBucket.publisher). */
  staticPublisher: Container;
  /**
   * What the migration Job (so every API pod and worker) waits for: each store's bootstrap Job or,
   * where it has none, its StatefulSet.
   */
  stores: pulumi.Resource[];
}

/** The API replicas (a StatefulSet, one Service per slot), the migration Job before them, the workers and the tracker. */
export class ApiCluster extends pulumi.ComponentResource {
  /** The API StatefulSet: the autoscaler's target, created after it. */
  readonly scaleTarget: pulumi.Resource;
  /** One Service per slot, up to the autoscaler's maximum: nginx's upstream names them, so nginx starts after them. */
  readonly upstreams: pulumi.Resource[];

  constructor(name: string, args: ApiClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:ApiCluster", name, {}, opts);
    const { cfg, namespace } = args;
    const t = cfg.topology;
    const api: AppProcess = {
      component: NAMES.api,
      entry: "api",
      port: t.api.basePort,
      // Readiness fails only while draining or cut off from everything; liveness only if the
      // process stops answering: neither follows a shared dependency's outage (every pod shares it).
      healthPath: "/api/v1/health",
      livenessPath: "/api/v1/health/live",
      workload: "api",
      // The publisher sidecar beside it uploads to the bucket.
      stores: ["mysql", "redis", "rabbitmq", "bucket"],
    };
    const migrate: AppProcess = {
      ...api,
      component: "migrate",
      entry: "migrate",
      workload: "job",
      stores: ["mysql"],
      extraEnv: (tt) => ({
        MYSQL_USER: tt.mysql.users.migrator.name,
        MYSQL_PASSWORD: tt.mysql.users.migrator.password,
        ADMIN_USERNAME: tt.api.admin.username,
        ADMIN_PASSWORD: tt.api.admin.password,
      }),
    };
    const secretKeys = new Set([...appProcessEnv(args, api).secretKeys, ...appProcessEnv(args, migrate).secretKeys]);
    const secret = args.podSecrets.secret(
      `${name}-secrets`,
      APP_SECRET,
      Object.fromEntries([...secretKeys].sort().map((k) => [k, cfg.secrets[k]])),
      { parent: this },
    );
    const migration = new k8s.batch.v1.Job(
      `${name}-migrate`,
      {
        metadata: { name: migrationJobName(cfg.images.app), namespace },
        spec: {
          backoffLimit: 6,
          template: appPodTemplate(args, migrate, { oneShot: true }),
        },
      },
      { parent: this, dependsOn: [secret, ...args.stores] },
    );
    new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata: { name: NAMES.api, namespace },
        spec: {
          clusterIP: "None",
          selector: { "app.kubernetes.io/name": NAMES.api },
          ports: [{ name: "http", port: api.port }],
        },
      },
      { parent: this },
    );
    // One Service per slot, up to the autoscaler's maximum: its name resolves even while no pod fills
    // the slot, so nginx starts with every slot listed and skips empty ones (connections are refused).
    const upstreams: pulumi.Resource[] = [];
    for (let i = 0; i < apiSlots(t); i++) {
      const slot = new k8s.core.v1.Service(
        `${name}-slot-${i}`,
        {
          metadata: { name: apiSlotName(i), namespace },
          spec: {
            selector: { "statefulset.kubernetes.io/pod-name": `${NAMES.api}-${i}` },
            ports: [{ name: "http", port: api.port, targetPort: api.port }],
          },
        },
        { parent: this },
      );
      upstreams.push(slot);
    }
    this.upstreams = upstreams;
    this.scaleTarget = new k8s.apps.v1.StatefulSet(
      `${name}-api`,
      {
        metadata: { name: NAMES.api, namespace },
        spec: {
          serviceName: NAMES.api,
          replicas: t.api.replicas,
          // Scale-out adds every new pod at once; ordered start would add them one by one.
          podManagementPolicy: "Parallel",
          updateStrategy: { type: "RollingUpdate" },
          selector: { matchLabels: { "app.kubernetes.io/name": NAMES.api } },
          template: appPodTemplate(args, api, { sidecars: [args.staticPublisher] }),
        },
      },
      // The autoscaler owns the replica count once deployed; a later `pulumi up` must not reset it.
      { parent: this, dependsOn: [migration], ignoreChanges: ["spec.replicas"] },
    );
    disruptionBudget(`${name}-budget`, NAMES.api, namespace, { parent: this });
    new Workers(`${name}-workers`, args, { parent: this, dependsOn: [migration] });
    this.registerOutputs({ scaleTarget: this.scaleTarget, upstreams: this.upstreams });
  }
}
