import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { adminHtpasswd, renderAdminGatewayConf, type AdminRoute } from "../../render";
import type { DeployConfig } from "../../deployment";
import { hostPort } from "../../topology";
import { PATHS, type KubernetesContext } from "./context";
import { runAsImageUser, scratchMounts } from "./image-users";
import { nginxCommand } from "./load-balancer";
import { configChecksum, podLabels, resources, sizeOf, tcpProbes } from "./pod-spec";

/** The gateway's name: its Deployment, Services and pods. */
export const ADMIN_GATEWAY = "admin-gateway";

/** Where the password file is mounted (a Secret volume). */
const HTPASSWD_DIR = "/etc/nginx/floodgate-auth";

/** What AdminGateway reads: the UIs' addresses, the namespace, the Secrets registry, and the admin port, source ranges, password and nginx image. */
export interface AdminGatewayArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images" | "adminPort" | "adminSourceRanges">;
}

/**
 * The admin UIs (Prometheus on `adminPort`, Alertmanager on the next port) published from the
 * cluster, only when the stack sets `adminPort`: behind nginx with HTTP basic authentication (user
 * `admin`, the stack's `monitoringPassword`), on a LoadBalancer that admits only
 * `adminSourceRanges`. The UIs themselves stay ClusterIP Services, reached in the cluster without it.
 */
export class AdminGateway extends pulumi.ComponentResource {
  constructor(name: string, args: AdminGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:AdminGateway", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const adminPort = cfg.adminPort;
    const ranges = cfg.adminSourceRanges;
    // parseStackConfig refuses an adminPort without source ranges on Kubernetes.
    if (adminPort === undefined || ranges === undefined)
      throw new Error("AdminGateway needs adminPort and adminSourceRanges");
    const m = t.monitoring;
    const routes: AdminRoute[] = [
      { name: "prometheus", listenPort: m.prometheusPort, upstream: hostPort(a.prometheus) },
      { name: "alertmanager", listenPort: m.alertmanagerPort, upstream: hostPort(a.alertmanager) },
    ];
    const conf = renderAdminGatewayConf(routes, { prefix: PATHS.nginxPrefix, htpasswd: `${HTPASSWD_DIR}/htpasswd` });
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-conf`,
      { metadata: { name: `${ADMIN_GATEWAY}-conf`, namespace }, data: { "nginx.conf": conf } },
      { parent: this },
    );
    const secret = args.podSecrets.secret(
      `${name}-htpasswd`,
      `${ADMIN_GATEWAY}-htpasswd`,
      pulumi.output(cfg.secrets.monitoringPassword).apply((password) => ({ htpasswd: adminHtpasswd(password) })),
      { parent: this },
    );
    const labels = podLabels(ADMIN_GATEWAY);
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: ADMIN_GATEWAY, namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { "app.kubernetes.io/name": ADMIN_GATEWAY } },
          template: args.podSecrets.template({
            metadata: { labels, annotations: { "floodgate.dev/config-sha256": configChecksum(conf) } },
            spec: {
              containers: [
                {
                  name: "nginx",
                  image: cfg.images.nginx,
                  command: nginxCommand(),
                  ports: routes.map((r) => ({ name: r.name.slice(0, 15), containerPort: r.listenPort })),
                  volumeMounts: [
                    { name: "conf", mountPath: PATHS.nginxConf, readOnly: true },
                    { name: "htpasswd", mountPath: HTPASSWD_DIR, readOnly: true },
                    ...scratchMounts("nginx"),
                  ],
                  resources: resources(sizeOf(t, "sidecar")),
                  securityContext: runAsImageUser("nginx"),
                  ...tcpProbes(m.prometheusPort),
                },
              ],
              volumes: [
                { name: "conf", configMap: { name: configMap.metadata.name } },
                {
                  name: "htpasswd",
                  secret: { secretName: secret.metadata.name, items: [{ key: "htpasswd", path: "htpasswd" }] },
                },
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
        metadata: { name: ADMIN_GATEWAY, namespace },
        spec: {
          type: "LoadBalancer",
          selector: { "app.kubernetes.io/name": ADMIN_GATEWAY },
          // The cloud's load balancer (or its firewall rules) drops every other source.
          loadBalancerSourceRanges: ranges,
          ports: routes.map((r, i) => ({ name: r.name, port: adminPort + i, targetPort: r.listenPort })),
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
