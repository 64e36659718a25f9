import path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withSecrets } from "../deployment";
import { renderEnabledPlugins, renderRabbitmqDefinitions } from "../render";
import { NAMES } from "./addresses";
import { PATHS, type KubernetesContext } from "./context";
import { runAsImageUser, volumesOwnedBy } from "./image-users";
import { kubernetesRabbitmqConf, RABBITMQ_DEFINITIONS_FILE } from "./mounted-files";
import { commandProbes, configChecksum, dataStorePolicy, podLabels, resources, sizeOf, volumeClaim } from "./pod-spec";

/** RabbitMQ: one node as a StatefulSet (stable node name for its data), rendered config, definitions and plugins. */
export class RabbitMq extends pulumi.ComponentResource {
  /** The node's StatefulSet (awaited until its pod is ready): clients wait for it. */
  readonly ready: k8s.apps.v1.StatefulSet;

  constructor(name: string, ctx: KubernetesContext, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:RabbitMq", name, {}, opts);
    const { cfg, addresses: a, namespace } = ctx;
    const t = cfg.topology;
    const conf = kubernetesRabbitmqConf(t, a);
    const plugins = renderEnabledPlugins();
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-conf`,
      { metadata: { name: "rabbitmq-conf", namespace }, data: { "rabbitmq.conf": conf, enabled_plugins: plugins } },
      { parent: this },
    );
    const secret = ctx.podSecrets.secret(
      `${name}-secrets`,
      "rabbitmq-secrets",
      pulumi.all(cfg.secrets).apply((values) => ({
        "definitions.json": renderRabbitmqDefinitions(withSecrets(t, values)),
        erlangCookie: values.rabbitmqErlangCookie,
      })),
      { parent: this },
    );
    const ports = [
      { name: "amqp", port: a.rabbitmq.port },
      { name: "management", port: a.rabbitmqManagement.port },
      { name: "prometheus", port: a.rabbitmqPrometheus.port },
    ];
    const selector = { "app.kubernetes.io/name": NAMES.rabbitmq };
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: NAMES.rabbitmq, namespace },
        spec: { selector, ports: ports.map((p) => ({ ...p, targetPort: p.port })) },
      },
      { parent: this },
    );
    this.ready = new k8s.apps.v1.StatefulSet(
      `${name}-node`,
      {
        metadata: { name: NAMES.rabbitmq, namespace },
        spec: {
          serviceName: NAMES.rabbitmq,
          replicas: 1,
          selector: { matchLabels: selector },
          template: ctx.podSecrets.template({
            metadata: {
              labels: podLabels(NAMES.rabbitmq),
              annotations: { "floodgate.dev/config-sha256": configChecksum(conf + plugins) },
            },
            spec: {
              terminationGracePeriodSeconds: 60,
              // HOME and mnesia live on the volume: the rabbitmq user's to write.
              securityContext: volumesOwnedBy("rabbitmq"),
              containers: [
                {
                  name: "rabbitmq",
                  image: cfg.images.rabbitmq,
                  // The image's command is the broker itself, reading the files its environment names
                  // (PATHS.rabbitmqConf, PATHS.rabbitmqPlugins); the node is rabbit@<pod name>, stable
                  // in a StatefulSet. The ports as on every other target.
                  env: [
                    {
                      name: "RABBITMQ_ERLANG_COOKIE",
                      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "erlangCookie" } },
                    },
                    { name: "RABBITMQ_DIST_PORT", value: String(t.rabbitmq.distPort) },
                    { name: "ERL_EPMD_PORT", value: String(t.rabbitmq.epmdPort) },
                  ],
                  ports: ports.map((p) => ({ name: p.name, containerPort: p.port })),
                  volumeMounts: [
                    { name: "data", mountPath: PATHS.rabbitmqData },
                    // Single files at the image's paths (subPath): /etc/rabbitmq keeps its other files.
                    // A changed file rolls the pod (the config-sha256 annotation) and so is read.
                    { name: "conf", mountPath: PATHS.rabbitmqConf, subPath: "rabbitmq.conf", readOnly: true },
                    { name: "conf", mountPath: PATHS.rabbitmqPlugins, subPath: "enabled_plugins", readOnly: true },
                    { name: "definitions", mountPath: path.posix.dirname(RABBITMQ_DEFINITIONS_FILE), readOnly: true },
                  ],
                  resources: resources(sizeOf(t, "rabbitmq")),
                  securityContext: runAsImageUser("rabbitmq"),
                  // Debian's CLI, run as the broker's own user with the same cookie and epmd port.
                  ...commandProbes(["rabbitmq-diagnostics", "-q", "check_port_connectivity"], a.rabbitmq.port, 60),
                },
              ],
              volumes: [
                { name: "conf", configMap: { name: configMap.metadata.name } },
                {
                  name: "definitions",
                  secret: {
                    secretName: secret.metadata.name,
                    items: [{ key: "definitions.json", path: path.posix.basename(RABBITMQ_DEFINITIONS_FILE) }],
                  },
                },
              ],
            },
          }),
          volumeClaimTemplates: [volumeClaim("data", cfg.kubernetes.storageClass, cfg.kubernetes.volumeGi.rabbitmq)],
        },
      },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-policy`,
      { metadata: { name: "rabbitmq", namespace }, spec: dataStorePolicy("rabbitmq", selector) },
      { parent: this },
    );
    this.registerOutputs({ amqp: a.rabbitmq.host });
  }
}
