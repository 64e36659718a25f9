import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderAlertmanagerYml } from "../../render";
import type { DeployConfig } from "../../deployment";
import { NAMES } from "../../topology";
import { PATHS, type KubernetesContext } from "./context";
import { runAsImageUser } from "./image-users";
import { clusterServiceSpec } from "./object-specs";
import { configChecksum, httpProbes, podLabels, resources, sizeOf } from "./pod-spec";

/** What Alertmanager reads: the addresses (its receivers), the namespace, the Secrets registry, the topology and its image. */
export interface AlertmanagerArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "images">;
}

/** Alertmanager: one instance with the rendered alertmanager.yml, published for admins only when asked. */
export class Alertmanager extends pulumi.ComponentResource {
  constructor(name: string, args: AlertmanagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:Alertmanager", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const port = a.alertmanager.port;
    const yml = renderAlertmanagerYml(t, args.addresses);
    const conf = new k8s.core.v1.ConfigMap(
      `${name}-conf`,
      { metadata: { name: "alertmanager-conf", namespace }, data: { "alertmanager.yml": yml } },
      { parent: this },
    );
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: NAMES.alertmanager, namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { "app.kubernetes.io/name": NAMES.alertmanager } },
          template: args.podSecrets.template({
            metadata: {
              labels: podLabels(NAMES.alertmanager),
              annotations: { "floodgate.dev/config-sha256": configChecksum(yml) },
            },
            spec: {
              containers: [
                {
                  name: "alertmanager",
                  image: cfg.images.alertmanager,
                  args: [
                    `--config.file=${PATHS.alertmanagerConf}/alertmanager.yml`,
                    `--storage.path=${PATHS.alertmanagerData}`,
                    `--web.listen-address=0.0.0.0:${port}`,
                    "--cluster.listen-address=", // a single instance: no gossip port
                  ],
                  ports: [{ name: "http", containerPort: port }],
                  volumeMounts: [
                    { name: "conf", mountPath: PATHS.alertmanagerConf, readOnly: true },
                    // Silences and notification state: kept across container restarts, not pod moves.
                    { name: "data", mountPath: PATHS.alertmanagerData },
                  ],
                  resources: resources(sizeOf(t, "alertmanager")),
                  securityContext: runAsImageUser("alertmanager"),
                  ...httpProbes("/-/ready", port),
                },
              ],
              volumes: [
                { name: "conf", configMap: { name: conf.metadata.name } },
                { name: "data", emptyDir: {} },
              ],
            },
          }),
        },
      },
      { parent: this },
    );
    // In the cluster only: published, when the stack asks, through the authenticating AdminGateway.
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: NAMES.alertmanager, namespace },
        spec: clusterServiceSpec(NAMES.alertmanager, { http: port }),
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
