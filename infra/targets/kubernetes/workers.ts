import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WORKER_ENTRY_POINTS, WORKER_KINDS, NAMES, workerKindName } from "../../topology";
import { workerMetricsPort } from "./addresses";
import { appPodTemplate, type AppProcess } from "./app-pod";
import { disruptionBudget } from "./availability";
import type { DeployConfig } from "../../deployment";
import type { KubernetesContext } from "./context";

/** What Workers reads: the addresses (every service's environment), the namespace, the Secrets registry, the topology and the app image. */
export interface WorkersArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "images">;
}

/** The queue workers (a StatefulSet per kind, so each process has a DNS name Prometheus scrapes) and the tracker. */
export class Workers extends pulumi.ComponentResource {
  constructor(name: string, args: WorkersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:Workers", name, {}, opts);
    const { cfg, namespace } = args;
    const t = cfg.topology;
    for (const kind of WORKER_KINDS) {
      const setName = workerKindName(kind);
      const worker: AppProcess = {
        component: setName,
        entry: WORKER_ENTRY_POINTS[kind],
        port: workerMetricsPort(t, kind),
        healthPath: "/health",
        workload: "worker",
        stores: ["mysql", "redis", "rabbitmq"],
        concurrency: t.workers[kind].concurrency,
      };
      new k8s.core.v1.Service(
        `${name}-${setName}`,
        {
          metadata: { name: setName, namespace },
          spec: {
            clusterIP: "None",
            // A worker that is not ready still has metrics worth scraping (why is it not ready?).
            publishNotReadyAddresses: true,
            selector: { "app.kubernetes.io/name": setName },
            ports: [{ name: "metrics", port: worker.port }],
          },
        },
        { parent: this },
      );
      new k8s.apps.v1.StatefulSet(
        `${name}-${setName}`,
        {
          metadata: { name: setName, namespace },
          spec: {
            serviceName: setName,
            replicas: t.workers[kind].processes,
            podManagementPolicy: "Parallel",
            updateStrategy: { type: "RollingUpdate" },
            selector: { matchLabels: { "app.kubernetes.io/name": setName } },
            template: appPodTemplate(args, worker),
          },
        },
        { parent: this },
      );
      disruptionBudget(`${name}-${setName}-budget`, setName, namespace, { parent: this });
    }
    const tracker: AppProcess = {
      component: NAMES.tracker,
      entry: "tracker",
      port: t.tracker.port,
      healthPath: "/health",
      workload: "tracker",
      stores: ["mysql", "redis", "rabbitmq"],
    };
    new k8s.apps.v1.Deployment(
      `${name}-tracker`,
      {
        metadata: { name: NAMES.tracker, namespace },
        spec: {
          replicas: 1,
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          selector: { matchLabels: { "app.kubernetes.io/name": NAMES.tracker } },
          template: appPodTemplate(args, tracker),
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-tracker`,
      {
        metadata: { name: NAMES.tracker, namespace },
        spec: {
          selector: { "app.kubernetes.io/name": NAMES.tracker },
          ports: [{ name: "http", port: tracker.port, targetPort: tracker.port }],
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
