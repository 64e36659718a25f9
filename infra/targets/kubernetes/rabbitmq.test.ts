import { parse } from "yaml";
import { deployRecorded, type Deployed } from "../../../test/support/kubernetes-program";
import { first } from "../../../test/support/checked";
import { recordResources, unwrapSecrets } from "../../../test/support/pulumi-mocks";
import { GROUP_LABEL, NODE_KEY } from "./availability";

// RabbitMQ on Kubernetes under Pulumi's mocks: the StatefulSet, Services, RBAC and config that let
// `rabbitmq.nodes` pods form one cluster through the Kubernetes API. What the mocks cannot show — a
// cluster forming from the rendered config and surviving a node's loss — runs on the real engine
// with the Docker target's config (test/docker/rabbitmq-cluster.docker.test.ts).

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const deployed = new Map<number, Deployed>();
beforeAll(async () => {
  await recordResources("kubernetes");
  for (const nodes of [1, 3, 5]) {
    deployed.set(nodes, await deployRecorded({ kubernetesNamespace: "fg-mq", topology: { rabbitmq: { nodes } } }));
  }
  // The Kubernetes default: three nodes with no topology given.
  deployed.set(0, await deployRecorded({ kubernetesNamespace: "fg-mq" }));
}, 120_000);

const objects = (d: Deployed, kind: string) =>
  d.resources.filter((r) => r.type.endsWith(`:${kind}`)).map((r) => unwrapSecrets(r.inputs) as Obj);
const named = (d: Deployed, kind: string, name: string): Obj => {
  const found = objects(d, kind).find((o) => o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const SUFFIX = ".rabbitmq-nodes.fg-mq.svc.cluster.local";

describe("RabbitMQ on Kubernetes", () => {
  it("runs three nodes by default", () => {
    expect(named(deployed.get(0)!, "StatefulSet", "rabbitmq").spec.replicas).toBe(3);
  });

  it.each([1, 3, 5])(
    "runs %i node(s) started together, apart on nodes, drained one at a time, claims kept",
    (nodes) => {
      const d = deployed.get(nodes)!;
      const set = named(d, "StatefulSet", "rabbitmq").spec;
      const pod = set.template;
      expect(set.replicas).toBe(nodes);
      expect(set.podManagementPolicy).toBe("Parallel");
      expect(set.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
      const group = pod.metadata.labels[GROUP_LABEL];
      expect(group).toBeDefined();
      expect(pod.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
        { labelSelector: { matchLabels: { [GROUP_LABEL]: group } }, topologyKey: NODE_KEY },
      ]);
      const budgets = objects(d, "PodDisruptionBudget").filter(
        (b) => b.spec.selector.matchLabels[GROUP_LABEL] === group,
      );
      expect(budgets.map((b) => b.spec.maxUnavailable)).toEqual([1]);
    },
  );

  it("names each node by its pod's DNS name under a headless Service that lists pods before they are ready", () => {
    const d = deployed.get(3)!;
    const set = named(d, "StatefulSet", "rabbitmq").spec;
    const headless = named(d, "Service", set.serviceName).spec;
    expect(headless.clusterIP).toBe("None");
    expect(headless.publishNotReadyAddresses).toBe(true);
    expect(set.template.metadata.labels).toMatchObject(headless.selector);
    const env = Object.fromEntries(
      (set.template.spec.containers[0].env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]),
    );
    expect(env.MY_POD_NAME).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
    expect(env.RABBITMQ_USE_LONGNAME).toBe("true");
    expect(env.RABBITMQ_NODENAME).toBe(`rabbit@$(MY_POD_NAME).${set.serviceName}.fg-mq.svc.cluster.local`);
  });

  it("finds its peers through the Kubernetes API with a role that may only read endpoints and record events", () => {
    const d = deployed.get(3)!;
    const set = named(d, "StatefulSet", "rabbitmq").spec;
    const conf = (named(d, "ConfigMap", "rabbitmq-conf").data["rabbitmq.conf"] as string).split("\n");
    expect(conf).toEqual(
      expect.arrayContaining([
        "cluster_formation.peer_discovery_backend = k8s",
        `cluster_formation.k8s.service_name = ${set.serviceName}`,
        "cluster_formation.k8s.address_type = hostname",
        `cluster_formation.k8s.hostname_suffix = ${SUFFIX}`,
        "cluster_formation.target_cluster_size_hint = 3",
        "cluster_partition_handling = pause_minority",
      ]),
    );
    expect(named(d, "ConfigMap", "rabbitmq-conf").data.enabled_plugins).toContain("rabbitmq_peer_discovery_k8s");
    const account = set.template.spec.serviceAccountName as string;
    expect(named(d, "ServiceAccount", account)).toBeDefined();
    const binding = objects(d, "RoleBinding").find((b) =>
      (b.subjects as Obj[]).some((s) => s.kind === "ServiceAccount" && s.name === account),
    )!;
    expect(named(d, "Role", binding.roleRef.name).rules).toEqual([
      { apiGroups: [""], resources: ["endpoints"], verbs: ["get"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create"] },
    ]);
  });

  it("renders no cluster formation for a single node", () => {
    const conf = named(deployed.get(1)!, "ConfigMap", "rabbitmq-conf").data["rabbitmq.conf"] as string;
    expect(conf).not.toMatch(/^cluster_/m);
  });

  it("lets a node wait for its peers without liveness killing it", () => {
    const [container] = named(deployed.get(3)!, "StatefulSet", "rabbitmq").spec.template.spec.containers;
    expect(container.livenessProbe.exec.command).toEqual(["rabbitmq-diagnostics", "-q", "ping"]);
    expect(container.readinessProbe.exec.command).toEqual(["rabbitmq-diagnostics", "-q", "check_port_connectivity"]);
  });

  it("sends clients to the Service and has Prometheus scrape every node", () => {
    const d = deployed.get(5)!;
    const clients = named(d, "Service", "rabbitmq").spec;
    expect(clients.clusterIP).toBeUndefined();
    const prometheus = parse(named(d, "ConfigMap", "prometheus-conf").data["prometheus.yml"]) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = prometheus.scrape_configs.find((j) => j.job_name === "rabbitmq")!;
    expect(first(job.static_configs, "the rabbitmq job's static config").targets).toEqual(
      [0, 1, 2, 3, 4].map((i) => `rabbitmq-${i}${SUFFIX}:15693`),
    );
  });
});
