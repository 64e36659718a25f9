import { hostNamespace } from "./addresses";
import { GROUP_LABEL, NODE_KEY } from "./availability";
import { POD_SECURITY_EXCEPTIONS, DEPLOYMENT_POD_SECURITY, HOST_POD_SECURITY } from "./pod-security";
import { deployRecorded, KUBERNETES_TEST_CONFIGS, type Deployed } from "../../../test/support/kubernetes-program";
import { podSecurityLevel, podSecurityProblems } from "../../../test/support/pod-security-check";
import { exactly, present } from "../../../test/support/checked";
import { recordResources, type RecordedResource } from "../../../test/support/pulumi-mocks";
import { redisNodeCount } from "../../topology";

// Policies over every object the Kubernetes program declares, under Pulumi's mocks: availability
// (disruption budgets, anti-affinity), Pod Security levels and the stores' NetworkPolicies. What
// they cannot prove: that a cluster's scheduler, admission and CNI enforce them — which no cluster
// here can show; the objects' fields themselves are checked against the API schema in schema.test.ts.

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LEVELS = ["privileged", "baseline", "restricted"] as const;
const atLeast = (level: string, floor: string) =>
  LEVELS.indexOf(level as (typeof LEVELS)[number]) >= LEVELS.indexOf(floor as (typeof LEVELS)[number]);

/** One pod template: the workload declaring it, its namespace, labels and spec, and how many pods it runs. */
interface Pod {
  kind: string;
  workload: string;
  namespace: string;
  labels: Record<string, string>;
  spec: Obj;
  replicas: number;
}

const kindOf = (r: RecordedResource) => r.type.split(":").pop()!;
const byKind = (d: Deployed, kind: string): Obj[] =>
  d.resources.filter((r) => kindOf(r) === kind).map((r) => r.inputs as Obj);

function podsOf(d: Deployed): Pod[] {
  const pods: Pod[] = [];
  for (const r of d.resources) {
    const kind = kindOf(r);
    const o = r.inputs as Obj;
    const template = kind === "CronJob" ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
    if (!template || !["StatefulSet", "Deployment", "DaemonSet", "Job", "CronJob"].includes(kind)) continue;
    pods.push({
      kind,
      workload: o.metadata.name,
      namespace: o.metadata.namespace,
      labels: template.metadata?.labels ?? {},
      spec: template.spec,
      replicas: o.spec.replicas ?? 1,
    });
  }
  return pods;
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The workloads (by name) each store's NetworkPolicy must admit, besides the store's own pods. */
function expectedClients(workload: string): string[] {
  const w = workload;
  if (w === "api" || w === "runbooks") return ["bucket", "mysql", "rabbitmq", "redis"];
  if (w.startsWith("worker-") || w === "tracker") return ["mysql", "rabbitmq", "redis"];
  if (w.startsWith("migrate-") || w.startsWith("mysql-") || w.startsWith("mysqld-exporter-")) return ["mysql"];
  if (w === "backups") return ["bucket", "mysql", "redis"];
  if (w.startsWith("redis")) return ["redis"];
  if (w.startsWith("rabbitmq") || w === "prometheus") return ["rabbitmq"];
  if (w === "nginx" || w.startsWith("bucket")) return ["bucket"];
  return [];
}

const STORE_OF: Record<string, (w: string) => boolean> = {
  mysql: (w) => w === "mysql-primary" || /^mysql-replica-\d+$/.test(w),
  redis: (w) => /^redis(-shard-\d+)?$/.test(w),
  rabbitmq: (w) => w === "rabbitmq",
  bucket: (w) => w === "bucket",
};

describe.each(Object.entries(KUBERNETES_TEST_CONFIGS))("Kubernetes policies (%s config)", (_label, raw) => {
  let d: Deployed;
  let pods: Pod[];
  beforeAll(async () => {
    await recordResources("kubernetes");
    d = await deployRecorded(raw());
    pods = podsOf(d);
  });

  describe("Pod Security", () => {
    it("gives every pod at least the level claimed for it: restricted unless pod-security.ts names why not", () => {
      const below = pods
        .map((p) => {
          const name = p.labels["app.kubernetes.io/name"] ?? p.workload;
          const claimed = POD_SECURITY_EXCEPTIONS[name]?.level ?? "restricted";
          return { workload: p.workload, claimed, problems: podSecurityProblems(p.spec, claimed) };
        })
        .filter((p) => p.problems.length > 0);
      expect(below).toEqual([]);
    });

    it("names no exception a pod does not need (each excepted pod really fails restricted)", () => {
      for (const name of Object.keys(POD_SECURITY_EXCEPTIONS)) {
        const excepted = pods.filter((p) => p.labels["app.kubernetes.io/name"] === name);
        expect({ name, pods: excepted.length }).toEqual({ name, pods: expect.any(Number) });
        expect(excepted.length).toBeGreaterThan(0);
        for (const p of excepted)
          expect({ name, level: podSecurityLevel(p.spec) }).not.toEqual({ name, level: "restricted" });
      }
    });

    it("enforces in each namespace a level every pod in it meets, and warns below restricted", () => {
      const ns = d.cfg.kubernetes.namespace;
      const namespaces = byKind(d, "Namespace");
      const labels = (name: string) => namespaces.find((n) => n.metadata.name === name)!.metadata.labels;
      expect(labels(ns)["pod-security.kubernetes.io/enforce"]).toBe(DEPLOYMENT_POD_SECURITY.enforce);
      expect(labels(ns)["pod-security.kubernetes.io/warn"]).toBe("restricted");
      expect(labels(hostNamespace(ns))["pod-security.kubernetes.io/enforce"]).toBe(HOST_POD_SECURITY.enforce);
      for (const p of pods) {
        const enforced = labels(p.namespace)["pod-security.kubernetes.io/enforce"];
        expect({ workload: p.workload, ok: atLeast(podSecurityLevel(p.spec), enforced) }).toEqual({
          workload: p.workload,
          ok: true,
        });
      }
      // Only the node exporter sits in the privileged namespace.
      expect(pods.filter((p) => p.namespace !== ns).map((p) => p.workload)).toEqual(["node-exporter"]);
    });

    it("mounts no service-account token into a pod that names no service account", () => {
      for (const p of pods.filter((x) => x.spec.serviceAccountName === undefined)) {
        expect({ workload: p.workload, token: p.spec.automountServiceAccountToken }).toEqual({
          workload: p.workload,
          token: false,
        });
      }
    });
  });

  describe("availability", () => {
    const budgets = () => byKind(d, "PodDisruptionBudget");
    const budgetFor = (p: Pod) =>
      budgets().filter((b) => b.metadata.namespace === p.namespace && matches(b.spec.selector.matchLabels, p.labels));

    it("keeps every copy of a store's data on its own node: MariaDB's servers, each Redis shard, RabbitMQ's nodes", () => {
      const stores = pods.filter(
        (p) => /^(mysql-(primary|replica-\d+)|redis.*|rabbitmq)$/.test(p.workload) && p.kind === "StatefulSet",
      );
      expect(stores.length).toBeGreaterThan(2);
      for (const p of stores) {
        const group = p.labels[GROUP_LABEL];
        const required = p.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
        expect({ workload: p.workload, group: typeof group }).toEqual({ workload: p.workload, group: "string" });
        expect({ workload: p.workload, apart: required }).toEqual({
          workload: p.workload,
          apart: [{ labelSelector: { matchLabels: { [GROUP_LABEL]: group } }, topologyKey: NODE_KEY }],
        });
      }
      const t = d.cfg.topology;
      const groupOf = (p: (typeof stores)[number]) => present(p.labels[GROUP_LABEL], `${p.workload}'s group label`);
      const groupSize = (group: string) =>
        stores.filter((p) => p.labels[GROUP_LABEL] === group).reduce((n, p) => n + p.replicas, 0);
      // The primary and every replica in one group; each Redis shard (a master and its own replicas) in one.
      expect(groupSize(groupOf(stores.find((p) => p.workload === "mysql-primary")!))).toBe(1 + t.mysql.replicas);
      const redisGroups = new Set(stores.filter((p) => p.workload.startsWith("redis")).map(groupOf));
      expect(redisGroups.size).toBe(t.redis.masters);
      for (const g of redisGroups) expect(groupSize(g)).toBe(1 + t.redis.replicasPerMaster);
      expect([...redisGroups].reduce((n, g) => n + groupSize(g), 0)).toBe(redisNodeCount(t));
    });

    it("lets a drain take one pod of a store, the API or a worker kind at a time", () => {
      const guarded = pods.filter(
        (p) =>
          p.kind === "StatefulSet" && /^(mysql-(primary|replica-\d+)|redis.*|rabbitmq|api|worker-.+)$/.test(p.workload),
      );
      for (const p of guarded) {
        const [budget] = exactly(budgetFor(p), 1, `disruption budgets of ${p.workload}`);
        expect(budget.spec.maxUnavailable).toBe(1);
        // The budget covers exactly the pods kept apart.
        expect(budget.spec.selector.matchLabels).toEqual({ [GROUP_LABEL]: p.labels[GROUP_LABEL] });
      }
    });

    it("spreads the API's and the workers' replicas over nodes and zones without requiring it", () => {
      for (const p of pods.filter((x) => x.workload === "api" || x.workload.startsWith("worker-"))) {
        const preferred = p.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
        expect(preferred[0].podAffinityTerm.topologyKey).toBe(NODE_KEY);
        expect(p.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
        const keys = (p.spec.topologySpreadConstraints as Obj[]).map((c) => [c.topologyKey, c.whenUnsatisfiable]);
        expect(keys).toEqual(
          expect.arrayContaining([
            ["topology.kubernetes.io/zone", "ScheduleAnyway"],
            [NODE_KEY, "ScheduleAnyway"],
          ]),
        );
      }
    });

    it("keeps claims when a set is deleted or scaled down, and the namespace (so every claim) on destroy", () => {
      for (const s of byKind(d, "StatefulSet").filter((x) => x.spec.volumeClaimTemplates)) {
        expect({ set: s.metadata.name, policy: s.spec.persistentVolumeClaimRetentionPolicy }).toEqual({
          set: s.metadata.name,
          policy: { whenDeleted: "Retain", whenScaled: "Retain" },
        });
      }
      const retained = (kind: string, name: string) =>
        d.resources.find((r) => kindOf(r) === kind && (r.inputs as Obj).metadata.name === name)!.retainOnDelete;
      expect(retained("Namespace", d.cfg.kubernetes.namespace)).toBe(true);
      for (const c of byKind(d, "PersistentVolumeClaim")) {
        expect({ claim: c.metadata.name, kept: retained("PersistentVolumeClaim", c.metadata.name) }).toEqual({
          claim: c.metadata.name,
          kept: true,
        });
      }
    });
  });

  describe("NetworkPolicies", () => {
    it("guards every store's pods, and admits exactly the pods that connect to the store", () => {
      const ns = d.cfg.kubernetes.namespace;
      const policies = byKind(d, "NetworkPolicy");
      for (const [store, isStore] of Object.entries(STORE_OF)) {
        const storePods = pods.filter((p) => isStore(p.workload));
        expect({ store, pods: storePods.length > 0 }).toEqual({ store, pods: true });
        const guarding = policies.filter((np) =>
          storePods.some((p) => matches(np.spec.podSelector.matchLabels ?? {}, p.labels)),
        );
        // One policy selects all the store's pods, and only them.
        const [policy] = exactly(guarding, 1, `NetworkPolicies guarding ${store}`);
        expect(
          pods
            .filter((p) => matches(policy.spec.podSelector.matchLabels, p.labels))
            .map((p) => p.workload)
            .sort(),
        ).toEqual(storePods.map((p) => p.workload).sort());
        expect(policy.spec.policyTypes).toEqual(["Ingress"]);
        const peers = (policy.spec.ingress as Obj[]).flatMap((rule) => rule.from as Obj[]);
        // Pods of this namespace only: no namespace selector, no address block, no empty (match-all) peer.
        for (const peer of peers) {
          expect(Object.keys(peer)).toEqual(["podSelector"]);
          expect(Object.keys(peer.podSelector.matchLabels ?? {}).length).toBeGreaterThan(0);
        }
        const admitted = pods
          .filter((p) => p.namespace === ns && !isStore(p.workload))
          .filter((p) => peers.some((peer) => matches(peer.podSelector.matchLabels, p.labels)))
          .map((p) => p.workload)
          .sort();
        const clients = pods
          .filter((p) => !isStore(p.workload) && expectedClients(p.workload).includes(store))
          .map((p) => p.workload)
          .sort();
        expect({ store, admitted }).toEqual({ store, admitted: clients });
      }
    });
  });
});

describe("Kubernetes stack options a private registry and a throw-away cluster need", () => {
  let d: Deployed;
  beforeAll(async () => {
    await recordResources("kubernetes");
    d = await deployRecorded({ kubernetesImagePullSecret: "regcred", kubernetesDeleteVolumesOnDestroy: true });
  });

  it("gives every pod the registry's pull Secret (kubernetesImagePullSecret)", () => {
    const pods = podsOf(d);
    expect(pods.length).toBeGreaterThan(10);
    for (const p of pods) {
      expect({ workload: p.workload, pull: p.spec.imagePullSecrets }).toEqual({
        workload: p.workload,
        pull: [{ name: "regcred" }],
      });
    }
  });

  it("lets destroy delete the namespace and the claims when asked (kubernetesDeleteVolumesOnDestroy)", () => {
    const kept = d.resources.filter((r) => /:(Namespace|PersistentVolumeClaim)$/.test(r.type) && r.retainOnDelete);
    expect(kept.map((r) => r.name)).toEqual([]);
    expect(d.resources.filter((r) => /:PersistentVolumeClaim$/.test(r.type)).length).toBeGreaterThan(0);
  });
});
