import path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { secretValues, withSecrets } from "../../deployment";
import { renderEnabledPlugins, renderRabbitmqDefinitions } from "../../render";
import type { DeployConfig } from "../../deployment";
import { NAMES } from "../../topology";
import { PATHS, type KubernetesContext } from "./context";
import { K8S_NAMES } from "./addresses";
import { disruptionBudget, groupLabels, KEEP_CLAIMS, placement } from "./availability";
import { runAsImageUser, volumesOwnedBy } from "./image-users";
import { kubernetesRabbitmqConf, RABBITMQ_DEFINITIONS_FILE, rabbitmqPodSuffix } from "./mounted-files";
import { configChecksum, dataStorePolicy, podLabels, resources, sizeOf, volumeClaim } from "./pod-spec";

type Container = k8s.types.input.core.v1.Container;

/** The availability group of the RabbitMQ nodes: no two on one Kubernetes node, one drained at a time. */
export const RABBITMQ_GROUP = NAMES.rabbitmq;

/** What peer discovery reads from the Kubernetes API (Bitnami's chart grants the same). */
export const RABBITMQ_PEER_DISCOVERY_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
  // The headless Service's endpoints: the pods, ready or not, by host name.
  { apiGroups: [""], resources: ["endpoints"], verbs: ["get"] },
  // The plugin records a node's (un)registration as an event on its pod.
  { apiGroups: [""], resources: ["events"], verbs: ["create"] },
];

/** What RabbitMq reads: the addresses (rendered into its config), the namespace, the Secrets registry and the deployment's secrets, image and storage. */
export interface RabbitMqArgs extends Pick<KubernetesContext, "addresses" | "namespace" | "podSecrets"> {
  cfg: Pick<DeployConfig, "topology" | "secrets" | "images" | "kubernetes">;
}

/**
 * RabbitMQ: `rabbitmq.nodes` nodes as one StatefulSet (stable names rabbit@<pod>.rabbitmq-nodes…,
 * so each keeps its data), finding each other through the Kubernetes API; rendered config,
 * definitions (users, quorum queues) and plugins. Clients reach any node through the `rabbitmq`
 * Service; Prometheus scrapes each pod by name.
 */
export class RabbitMq extends pulumi.ComponentResource {
  /** The nodes' StatefulSet (awaited until every pod is ready): clients wait for it. */
  readonly ready: pulumi.Resource;

  constructor(name: string, args: RabbitMqArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:kubernetes:RabbitMq", name, {}, opts);
    const { cfg, addresses: a, namespace } = args;
    const t = cfg.topology;
    const conf = kubernetesRabbitmqConf(t, a);
    const plugins = renderEnabledPlugins({ k8sPeerDiscovery: true });
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-conf`,
      { metadata: { name: "rabbitmq-conf", namespace }, data: { "rabbitmq.conf": conf, enabled_plugins: plugins } },
      { parent: this },
    );
    const secret = args.podSecrets.secret(
      `${name}-secrets`,
      "rabbitmq-secrets",
      secretValues(cfg.secrets).apply((values) => ({
        "definitions.json": renderRabbitmqDefinitions(withSecrets(t, values)),
        erlangCookie: values.rabbitmqErlangCookie,
      })),
      { parent: this },
    );
    const account = this.peerDiscoveryAccount(name, namespace);
    const ports = [
      { name: "amqp", port: a.rabbitmq.port },
      { name: "management", port: a.rabbitmqManagement.port },
      { name: "prometheus", port: a.rabbitmqPrometheus.port },
    ];
    const selector = { "app.kubernetes.io/name": NAMES.rabbitmq };
    // Clients: any ready node.
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: NAMES.rabbitmq, namespace },
        spec: { selector, ports: ports.map((p) => ({ ...p, targetPort: p.port })) },
      },
      { parent: this },
    );
    // The nodes' names and their discovery: every pod, ready or not, so nodes starting together
    // find each other before any is ready.
    new k8s.core.v1.Service(
      `${name}-nodes`,
      {
        metadata: { name: K8S_NAMES.rabbitmqNodes, namespace },
        spec: {
          clusterIP: "None",
          publishNotReadyAddresses: true,
          selector,
          ports: [
            ...ports,
            { name: "epmd", port: t.rabbitmq.epmdPort },
            { name: "dist", port: t.rabbitmq.distPort },
          ].map((p) => ({ ...p, targetPort: p.port })),
        },
      },
      { parent: this },
    );
    this.ready = new k8s.apps.v1.StatefulSet(
      `${name}-node`,
      {
        metadata: { name: NAMES.rabbitmq, namespace },
        spec: {
          serviceName: K8S_NAMES.rabbitmqNodes,
          replicas: t.rabbitmq.nodes,
          // All at once, as Bitnami's chart does: a node restarting after the whole cluster stopped
          // waits for its peers, which an ordered start would hold back until it is ready.
          podManagementPolicy: "Parallel",
          selector: { matchLabels: selector },
          template: args.podSecrets.template({
            metadata: {
              labels: { ...podLabels(NAMES.rabbitmq), ...groupLabels(RABBITMQ_GROUP) },
              annotations: { "floodgate.dev/config-sha256": configChecksum(conf + plugins) },
            },
            spec: {
              ...placement(RABBITMQ_GROUP, "hard"),
              serviceAccountName: account.metadata.name,
              terminationGracePeriodSeconds: 60,
              // HOME and mnesia live on the volume: the rabbitmq user's to write.
              securityContext: volumesOwnedBy("rabbitmq"),
              containers: [
                {
                  name: "rabbitmq",
                  image: cfg.images.rabbitmq,
                  // The image's command is the broker itself, reading the files its environment names
                  // (PATHS.rabbitmqConf, PATHS.rabbitmqPlugins). The node is named by its pod's DNS name
                  // under the headless Service, stable in a StatefulSet and what peer discovery finds
                  // (address_type = hostname). The ports as on every other target.
                  env: [
                    { name: "MY_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    { name: "RABBITMQ_USE_LONGNAME", value: "true" },
                    { name: "RABBITMQ_NODENAME", value: `rabbit@$(MY_POD_NAME)${rabbitmqPodSuffix(a)}` },
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
                  ...rabbitmqProbes(),
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
          persistentVolumeClaimRetentionPolicy: KEEP_CLAIMS,
        },
      },
      { parent: this },
    );
    disruptionBudget(`${name}-budget`, RABBITMQ_GROUP, namespace, { parent: this });
    new k8s.networking.v1.NetworkPolicy(
      `${name}-policy`,
      { metadata: { name: "rabbitmq", namespace }, spec: dataStorePolicy("rabbitmq", selector) },
      { parent: this },
    );
    this.registerOutputs({ ready: this.ready });
  }

  /** The ServiceAccount the nodes run as, allowed only what peer discovery reads. */
  private peerDiscoveryAccount(name: string, namespace: pulumi.Input<string>): k8s.core.v1.ServiceAccount {
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-account`,
      { metadata: { name: NAMES.rabbitmq, namespace } },
      { parent: this },
    );
    const role = new k8s.rbac.v1.Role(
      `${name}-role`,
      { metadata: { name: NAMES.rabbitmq, namespace }, rules: RABBITMQ_PEER_DISCOVERY_RULES },
      { parent: this },
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-binding`,
      {
        metadata: { name: NAMES.rabbitmq, namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace }],
      },
      { parent: this },
    );
    return account;
  }
}

/**
 * Ready once the node takes AMQP connections; alive while its Erlang runtime answers `ping`, which
 * it does while booting and waiting for its peers' tables (up to 5 minutes after a whole-cluster
 * restart), so liveness never kills a node for waiting. Debian's CLI, run as the broker's own user
 * with the same cookie and epmd port.
 */
function rabbitmqProbes(): Pick<Container, "readinessProbe" | "livenessProbe"> {
  const cli = (...args: string[]) => ({ exec: { command: ["rabbitmq-diagnostics", "-q", ...args] } });
  return {
    readinessProbe: { ...cli("check_port_connectivity"), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 20 },
    livenessProbe: {
      ...cli("ping"),
      initialDelaySeconds: 120,
      periodSeconds: 30,
      failureThreshold: 6,
      timeoutSeconds: 20,
    },
  };
}
