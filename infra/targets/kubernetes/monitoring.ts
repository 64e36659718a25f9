import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KEEP_CLAIMS } from "./availability";
import { NAMES } from "../../topology";
import type { DeployConfig } from "../../deployment";
import { Alertmanager } from "./alertmanager";
import { PATHS } from "./context";
import { Exporters, type ExportersArgs } from "./exporters";
import { clusterServiceSpec } from "./object-specs";
import { runAsImageUser, volumesOwnedBy } from "./image-users";
import { kubernetesPrometheusYml } from "./mounted-files";
import { clientLabels, configChecksum, httpProbes, podLabels, resources, sizeOf, volumeClaim } from "./pod-spec";

/** What Monitoring reads: the exporters' inputs (Alertmanager's among them), the storage settings and every rule file. */
export interface MonitoringArgs extends Omit<ExportersArgs, "cfg"> {
  cfg: ExportersArgs["cfg"] & Pick<DeployConfig, "kubernetes">;
  /** Every rule file under monitoring/rules/ (file name → contents). */
  rules: Record<string, string>;
}

/** Prometheus (StatefulSet on a volume) with the rendered config and every rule file, Alertmanager, and the exporters. */
export class Monitoring extends pulumi.ComponentResource {
  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:Monitoring", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const port = a.prometheus.port;
    const yml = kubernetesPrometheusYml(t, a, Object.keys(args.rules));
    const conf = new k8s.core.v1.ConfigMap(
      `${name}-conf`,
      { metadata: { name: "prometheus-conf", namespace }, data: { "prometheus.yml": yml } },
      { parent: this },
    );
    const rules = new k8s.core.v1.ConfigMap(
      `${name}-rules`,
      { metadata: { name: "prometheus-rules", namespace }, data: args.rules },
      { parent: this },
    );
    new k8s.apps.v1.StatefulSet(
      `${name}-prometheus`,
      {
        metadata: { name: NAMES.prometheus, namespace },
        spec: {
          serviceName: NAMES.prometheus,
          replicas: 1,
          selector: { matchLabels: { "app.kubernetes.io/name": NAMES.prometheus } },
          template: args.podSecrets.template({
            metadata: {
              // Prometheus scrapes RabbitMQ's own metrics port, behind the broker's NetworkPolicy.
              labels: { ...podLabels(NAMES.prometheus), ...clientLabels("rabbitmq") },
              annotations: { "floodgate.dev/config-sha256": configChecksum(yml + JSON.stringify(args.rules)) },
            },
            spec: {
              // The TSDB volume is the prometheus user's to write.
              securityContext: volumesOwnedBy("prometheus"),
              containers: [
                {
                  name: "prometheus",
                  image: cfg.images.prometheus,
                  args: [
                    `--config.file=${PATHS.prometheusConf}/prometheus.yml`,
                    `--storage.tsdb.path=${PATHS.prometheusData}`,
                    `--storage.tsdb.retention.time=${t.monitoring.retentionHours}h`,
                    `--web.listen-address=0.0.0.0:${port}`,
                    "--web.enable-lifecycle",
                  ],
                  ports: [{ name: "http", containerPort: port }],
                  volumeMounts: [
                    { name: "data", mountPath: PATHS.prometheusData },
                    { name: "conf", mountPath: PATHS.prometheusConf, readOnly: true },
                    { name: "rules", mountPath: PATHS.prometheusRules, readOnly: true },
                  ],
                  resources: resources(sizeOf(t, "prometheus")),
                  securityContext: runAsImageUser("prometheus"),
                  ...httpProbes("/-/ready", port),
                  // Replaying the WAL after a restart can take a while; only then is it ready.
                  livenessProbe: { httpGet: { path: "/-/healthy", port }, initialDelaySeconds: 30, periodSeconds: 15 },
                },
              ],
              volumes: [
                { name: "conf", configMap: { name: conf.metadata.name } },
                { name: "rules", configMap: { name: rules.metadata.name } },
              ],
            },
          }),
          volumeClaimTemplates: [volumeClaim("data", cfg.kubernetes.storageClass, cfg.kubernetes.volumeGi.prometheus)],
          persistentVolumeClaimRetentionPolicy: KEEP_CLAIMS,
        },
      },
      { parent: this },
    );
    // In the cluster only: published, when the stack asks, through the authenticating AdminGateway.
    new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: { name: NAMES.prometheus, namespace }, spec: clusterServiceSpec(NAMES.prometheus, { http: port }) },
      { parent: this },
    );
    new Alertmanager(`${name}-alertmanager`, args, { parent: this });
    new Exporters(`${name}-exporters`, args, { parent: this });
    this.registerOutputs({});
  }
}
