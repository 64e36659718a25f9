import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeployConfig } from "../../deployment";
import { NAMES } from "../../topology";
import { PATHS, type KubernetesContext } from "./context";
import { runAsImageUser, scratchMounts } from "./image-users";
import { kubernetesNginxConf } from "./mounted-files";
import { clientLabels, configChecksum, httpProbes, podLabels, resources, sizeOf, tcpProbes } from "./pod-spec";

type Container = k8s.types.input.core.v1.Container;

/** What LoadBalancer reads: the addresses, the namespace, the Secrets registry, the topology, images and public port, the edge's sync sidecar and the API's upstreams. */
export interface LoadBalancerArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "images" | "publicPort">;
  /** The static edge's sync sidecar (StaticBucket.edgeSync). */
  staticSync: Container;
  /**
   * What nginx's upstream names: the API's per-slot Services. nginx resolves them when it starts and
   * exits while one does not exist, so it is created after them.
   */
  upstreams: pulumi.Resource[];
}

/** nginx, the only public entry: a LoadBalancer Service keeping client addresses, with the stub_status exporter beside it. */
export class LoadBalancer extends pulumi.ComponentResource {
  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:LoadBalancer", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    // The edge's sync sidecar reads from the bucket.
    const labels = { ...podLabels(NAMES.nginx), ...clientLabels("bucket") };
    const conf = kubernetesNginxConf(t, a);
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-conf`,
      { metadata: { name: "nginx-conf", namespace }, data: { "nginx.conf": conf } },
      { parent: this },
    );
    const exporterPort = a.nginxExporter.port;
    new k8s.apps.v1.Deployment(
      `${name}-nginx`,
      {
        metadata: { name: NAMES.nginx, namespace },
        spec: {
          // One pod: Prometheus scrapes its counters through one Service, and two pods would interleave them.
          replicas: 1,
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          selector: { matchLabels: { "app.kubernetes.io/name": NAMES.nginx } },
          template: args.podSecrets.template({
            // A changed config rolls the pod, since nginx reads it only at start.
            metadata: { labels, annotations: { "floodgate.dev/config-sha256": configChecksum(conf) } },
            spec: {
              containers: [
                {
                  name: "nginx",
                  image: cfg.images.nginx,
                  command: nginxCommand(),
                  ports: [{ name: "http", containerPort: t.nginx.port }],
                  volumeMounts: [
                    { name: "conf", mountPath: PATHS.nginxConf, readOnly: true },
                    { name: "static", mountPath: PATHS.staticRoot, readOnly: true },
                    // The pid and temp files (the rendered prefix) on an emptyDir: the root is read-only.
                    ...scratchMounts("nginx"),
                  ],
                  resources: resources(sizeOf(t, "nginx")),
                  securityContext: runAsImageUser("nginx"),
                  ...tcpProbes(t.nginx.port),
                  // Let the Service stop sending before nginx finishes in-flight requests and exits;
                  // `-s quit` finds the master through the pid file the rendered nginx.conf names.
                  lifecycle: {
                    preStop: { exec: { command: ["sh", "-c", `sleep 5; ${nginxCommand("quit").join(" ")}; sleep 5`] } },
                  },
                },
                {
                  name: "exporter",
                  image: cfg.images.nginxExporter,
                  // Debian's exporter takes Go flags (one dash), as on the local stack and Docker.
                  args: [
                    `-nginx.scrape-uri=http://${a.nginxStatus.host}:${a.nginxStatus.port}/stub_status`,
                    `-web.listen-address=:${exporterPort}`,
                  ],
                  ports: [{ name: "metrics", containerPort: exporterPort }],
                  resources: resources(sizeOf(t, "exporter")),
                  securityContext: runAsImageUser("nginxExporter"),
                  ...httpProbes("/metrics", exporterPort),
                },
                args.staticSync,
              ],
              volumes: [
                { name: "conf", configMap: { name: configMap.metadata.name } },
                { name: "static", emptyDir: {} },
              ],
            },
          }),
        },
      },
      { parent: this, dependsOn: args.upstreams },
    );
    new k8s.core.v1.Service(
      `${name}-public`,
      {
        metadata: { name: NAMES.nginx, namespace },
        spec: {
          type: "LoadBalancer",
          // Keep the client's address: nginx rate-limits per $remote_addr and sets X-Forwarded-For from it.
          externalTrafficPolicy: "Local",
          selector: { "app.kubernetes.io/name": NAMES.nginx },
          ports: publicPorts(cfg.publicPort, t.nginx.port),
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-exporter`,
      {
        metadata: { name: NAMES.nginxExporter, namespace },
        spec: {
          selector: { "app.kubernetes.io/name": NAMES.nginx },
          ports: [{ name: "metrics", port: exporterPort, targetPort: exporterPort }],
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

/**
 * nginx as the image runs it, on the mounted config; with `signal`, the same binary signalling the
 * running master. Errors before the config is read go to stderr too (`-e`).
 */
export function nginxCommand(signal?: "quit" | "reload"): string[] {
  return ["nginx", "-e", "/dev/stderr", "-c", `${PATHS.nginxConf}/nginx.conf`, ...(signal ? ["-s", signal] : [])];
}

/** The public port, plus the topology's own port when it differs, so in-cluster clients can use `Addresses.nginx`. */
export function publicPorts(publicPort: number, nginxPort: number): k8s.types.input.core.v1.ServicePort[] {
  const ports = [{ name: "http", port: publicPort, targetPort: nginxPort }];
  return publicPort === nginxPort
    ? ports
    : [...ports, { name: "http-internal", port: nginxPort, targetPort: nginxPort }];
}
