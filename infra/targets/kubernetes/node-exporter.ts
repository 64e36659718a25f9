import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeployConfig } from "../../deployment";
import { NAMES } from "../../topology";
import type { KubernetesContext } from "./context";
import { runAsImageUser } from "./image-users";
import { clusterServiceSpec } from "./object-specs";
import { httpProbes, podLabels, resources, sizeOf } from "./pod-spec";

/** What NodeExporter reads: its address, the (host) namespace, the Secrets registry, the topology and its image. */
export interface NodeExporterArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "images">;
}

/**
 * The node exporter on every node (a DaemonSet reading the host's /proc and /sys). Prometheus's
 * static config reaches it through one Service, so each scrape sees one node: per-node scrapes
 * need service discovery, which the static renderer does not emit.
 */
export class NodeExporter extends pulumi.ComponentResource {
  constructor(name: string, args: NodeExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:NodeExporter", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const nodePort = a.nodeExporter.port;
    new k8s.apps.v1.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: { name: NAMES.nodeExporter, namespace },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": NAMES.nodeExporter } },
          template: args.podSecrets.template({
            metadata: { labels: podLabels(NAMES.nodeExporter) },
            spec: {
              containers: [
                {
                  name: "exporter",
                  image: cfg.images.nodeExporter,
                  args: ["--path.procfs=/host/proc", "--path.sysfs=/host/sys", `--web.listen-address=:${nodePort}`],
                  ports: [{ name: "metrics", containerPort: nodePort }],
                  volumeMounts: [
                    { name: "proc", mountPath: "/host/proc", readOnly: true },
                    { name: "sys", mountPath: "/host/sys", readOnly: true },
                  ],
                  resources: resources(sizeOf(t, "exporter")),
                  // The host's /proc and /sys are world-readable: the image's user needs nothing more.
                  securityContext: runAsImageUser("nodeExporter"),
                  ...httpProbes("/metrics", nodePort),
                },
              ],
              volumes: [
                { name: "proc", hostPath: { path: "/proc" } },
                { name: "sys", hostPath: { path: "/sys" } },
              ],
            },
          }),
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: NAMES.nodeExporter, namespace },
        spec: clusterServiceSpec(NAMES.nodeExporter, { metrics: nodePort }),
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
