import path from "node:path";
import { pulumiTypeOf, schemaViolations, type ApiModel } from "../../../test/support/k8s-schema";
import { deployRecorded, KUBERNETES_TEST_CONFIGS, type Deployed } from "../../../test/support/kubernetes-program";
import { recordResources, unwrapSecrets, type RecordedResource } from "../../../test/support/pulumi-mocks";
import { REPO_ROOT } from "../../../test/support/stack-config";

// kubernetes-models 5.1.0 carries the API schema of Kubernetes 1.36 (its changelog: "Update to
// Kubernetes v1.36.0"; the README's 1.27.1 badge is stale), merged with older releases' specs so
// that removed versions (policy/v1beta1, extensions/v1beta1) still have classes: hence the explicit
// list below of the versions a 1.36 cluster serves. @kubernetes-models/keda 2.0.0 carries KEDA
// 2.19's ScaledObject, generated from KEDA's own API types.

type ConfigName = keyof typeof KUBERNETES_TEST_CONFIGS;
const CONFIGS = Object.keys(KUBERNETES_TEST_CONFIGS) as ConfigName[];

// Both packages are ESM-only with an `import`-only exports map, which the CommonJS `require` that
// ts-jest compiles imports to cannot match: each model is loaded by its file (Node 24's require(esm)).
function loadModel(pkg: string, apiVersion: string, kind: string): ApiModel {
  const file = path.join(REPO_ROOT, "node_modules", pkg, apiVersion, `${kind}.js`);
  const model = (require(file) as Record<string, ApiModel>)[kind];
  if (model?.apiVersion !== apiVersion || model.kind !== kind) throw new Error(`${file} is not ${apiVersion} ${kind}`);
  return model;
}

/** The kinds the program may declare, at the versions a Kubernetes 1.36 cluster with KEDA serves. */
const SERVED: Array<[string, string, string]> = [
  ...["Namespace", "ConfigMap", "Secret", "Service", "ServiceAccount", "PersistentVolumeClaim"].map(
    (kind): [string, string, string] => ["kubernetes-models", "v1", kind],
  ),
  ["kubernetes-models", "apps/v1", "Deployment"],
  ["kubernetes-models", "apps/v1", "StatefulSet"],
  ["kubernetes-models", "apps/v1", "DaemonSet"],
  ["kubernetes-models", "batch/v1", "Job"],
  ["kubernetes-models", "batch/v1", "CronJob"],
  ["kubernetes-models", "policy/v1", "PodDisruptionBudget"],
  ["kubernetes-models", "networking.k8s.io/v1", "NetworkPolicy"],
  ["kubernetes-models", "rbac.authorization.k8s.io/v1", "Role"],
  ["kubernetes-models", "rbac.authorization.k8s.io/v1", "RoleBinding"],
  ["kubernetes-models", "autoscaling/v2", "HorizontalPodAutoscaler"],
  ["@kubernetes-models/keda", "keda.sh/v1alpha1", "ScaledObject"],
];
const MODELS = new Map(
  SERVED.map(([pkg, apiVersion, kind]) => loadModel(pkg, apiVersion, kind)).map((m) => [pulumiTypeOf(m), m]),
);

/** Registrations that declare no API object: providers. Everything else custom must have a model. */
const NOT_API_OBJECTS = /^pulumi:providers:/;

const deployed = {} as Record<ConfigName, Deployed>;

beforeAll(async () => {
  await recordResources("kubernetes");
  for (const which of CONFIGS) deployed[which] = await deployRecorded(KUBERNETES_TEST_CONFIGS[which]());
});

const apiObjects = (d: Deployed) => d.resources.filter((r) => r.custom && !NOT_API_OBJECTS.test(r.type));
const objectName = (r: RecordedResource) =>
  `${r.type.split(":")[2]} ${String((r.inputs.metadata as { name?: string } | undefined)?.name ?? r.name)}`;

describe.each(CONFIGS)("every object the Kubernetes program declares (%s config)", (which) => {
  it("is of a kind with a schema here, so no new kind goes unchecked", () => {
    const objects = apiObjects(deployed[which]);
    expect(objects.length).toBeGreaterThan(30);
    expect([...new Set(objects.map((r) => r.type).filter((t) => !MODELS.has(t)))]).toEqual([]);
  });

  it("validates against its API schema, unknown fields rejected", () => {
    const found = apiObjects(deployed[which]).flatMap((r) => {
      const model = MODELS.get(r.type);
      if (!model) return [`${objectName(r)}: no schema for ${r.type}`];
      return schemaViolations(model, unwrapSecrets(r.inputs) as object).map((v) => `${objectName(r)}: ${v}`);
    });
    expect(found).toEqual([]);
  });
});

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function buildDeployment(): Obj {
  const labels = { "app.kubernetes.io/name": "web" };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

function buildScaledObject(): Obj {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: "api" },
    spec: {
      scaleTargetRef: { kind: "StatefulSet", name: "api" },
      minReplicaCount: 2,
      maxReplicaCount: 6,
      triggers: [{ type: "cpu", metricType: "Utilization", metadata: { value: "70" } }],
    },
  };
}

describe("the strict schema check", () => {
  const deployment = MODELS.get("kubernetes:apps/v1:Deployment")!;
  const scaledObject = MODELS.get("kubernetes:keda.sh/v1alpha1:ScaledObject")!;

  it("accepts a valid Deployment and a valid ScaledObject, with any keys in their maps", () => {
    expect(schemaViolations(deployment, buildDeployment())).toEqual([]);
    expect(schemaViolations(scaledObject, buildScaledObject())).toEqual([]);
  });

  it("exists because kubernetes-models' own validate() lets an unknown field through", () => {
    const d = buildDeployment();
    d.spec.replicass = 3;
    expect(() => deployment.prototype.validate.call(d)).not.toThrow();
  });

  it("rejects an unknown field, naming its path", () => {
    const d = buildDeployment();
    d.spec.replicass = 3;
    expect(schemaViolations(deployment, d)).toEqual(["spec.replicass: unknown field"]);
  });

  it("rejects an unknown field deep in a pod template", () => {
    const d = buildDeployment();
    d.spec.template.spec.containers[0].imagePullPolicyy = "Always";
    expect(schemaViolations(deployment, d)).toEqual([
      "spec.template.spec.containers[0].imagePullPolicyy: unknown field",
    ]);
  });

  it("rejects a wrong type, naming its path", () => {
    const d = buildDeployment();
    d.spec.replicas = "2";
    d.spec.template.spec.containers[0].ports[0].containerPort = "http";
    expect(schemaViolations(deployment, d)).toEqual([
      "spec.replicas: must be integer",
      "spec.template.spec.containers[0].ports[0].containerPort: must be integer",
    ]);
  });

  it("rejects an unknown field and a wrong type in a KEDA ScaledObject", () => {
    const s = buildScaledObject();
    s.spec.cooldownPeriodSeconds = 300;
    s.spec.minReplicaCount = "2";
    expect(schemaViolations(scaledObject, s).sort()).toEqual(
      ["spec.cooldownPeriodSeconds: unknown field", "spec.minReplicaCount: must be integer"].sort(),
    );
  });

  it("knows no kind at a version a 1.36 cluster no longer serves, though kubernetes-models has its class", () => {
    expect(loadModel("kubernetes-models", "policy/v1beta1", "PodDisruptionBudget").kind).toBe("PodDisruptionBudget");
    expect(MODELS.has("kubernetes:policy/v1beta1:PodDisruptionBudget")).toBe(false);
    expect(MODELS.has("kubernetes:policy/v1:PodDisruptionBudget")).toBe(true);
  });
});
