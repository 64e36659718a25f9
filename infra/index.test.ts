import { hostNamespace } from "./targets/kubernetes/addresses";
import { recordResources, settle, settleRegistrations, type RecordedResource } from "../test/support/pulumi-mocks";
import { readStackFile, useStackConfig } from "../test/support/stack-config";

// The wiring as `pulumi up` runs it with the Kubernetes example stack (the Docker stack's run is
// in infra/targets/docker/program.test.ts): config read through pulumi.Config, the target chosen from it.

let program: Record<string, Parameters<typeof settle>[0]>;
let resources: RecordedResource[];

beforeAll(async () => {
  await recordResources("k8s");
  useStackConfig("k8s");
  program = require("./index") as typeof program;
  await settle(program.apiUrl);
  resources = [...(await settleRegistrations())];
});

describe("infra/index.ts with Pulumi.k8s.yaml", () => {
  it("deploys to Kubernetes only", () => {
    expect(resources.filter((r) => r.type.startsWith("kubernetes:")).length).toBeGreaterThan(10);
    expect(resources.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
  });

  it("puts everything in the stack's namespace, and the node exporter in the one beside it", () => {
    const namespace = readStackFile("k8s").kubernetesNamespace;
    const namespaced = resources.filter(
      (r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:Namespace",
    );
    const spaces = new Set(
      namespaced.map((r) => (r.inputs.metadata as { namespace?: unknown } | undefined)?.namespace),
    );
    expect([...spaces].sort()).toEqual([namespace, hostNamespace(namespace as string)]);
  });

  it.each(["apiUrl", "staticUrl", "prometheusUrl", "alertmanagerUrl"])("exports %s", async (name) => {
    expect(await settle(program[name])).toMatch(/^https?:\/\/\S+$/);
  });
});
