import type { RawStackConfig } from "../../infra/config";
import type { DeployConfig } from "../../infra/deployment";
import type * as program from "../../infra/targets/kubernetes/index";
import { buildDeployConfig } from "./deploy-config";
import { assertMocksSet, recorded, settle, settleRegistrations, type RecordedResource } from "./pulumi-mocks";
import { readStackFile } from "./stack-config";

/**
 * The Kubernetes program run under Pulumi's recording mocks, with the configurations its tests share.
 * Tests call `await recordResources("kubernetes")` in `beforeAll`, then `deployRecorded(raw)`.
 */

/** A second configuration that changes every count the program derives, so each assertion sees them follow. */
export const SCALED: RawStackConfig = {
  kubernetesNamespace: "fg-scaled",
  appImage: "registry.example.com/floodgate/services:0.2.0",
  adminPort: 9000,
  adminSourceRanges: "203.0.113.0/24,198.51.100.7/32",
  topology: {
    api: { replicas: 4 },
    autoscaling: { minReplicas: 4, maxReplicas: 9, cooldownSeconds: 300, scaleOutCpuPercent: 60 },
    redis: { masters: 4, replicasPerMaster: 2 },
    mysql: { replicas: 2 },
    workers: { orders: { processes: 5, concurrency: 8 }, redPacketGrabs: { processes: 1, concurrency: 4 } },
    backups: { schedule: "0 3 * * *", retentionDays: 30, keepLast: 12 },
  },
};

/** The configurations the program is proved with: the defaults, SCALED and the example stack file. */
export const KUBERNETES_TEST_CONFIGS = {
  base: (): RawStackConfig => ({}),
  scaled: (): RawStackConfig => SCALED,
  "Pulumi.k8s.yaml": (): RawStackConfig => readStackFile("k8s"),
} as const;

/** What one run of the program declared. */
export interface Deployed {
  cfg: DeployConfig;
  resources: RecordedResource[];
}

/** Run the Kubernetes program for `raw` and return every resource it registered, in order. */
export async function deployRecorded(raw: RawStackConfig): Promise<Deployed> {
  assertMocksSet();
  const start = recorded.length;
  const cfg = buildDeployConfig("kubernetes", raw);
  // Required here, not imported: the program must load only after the test has set Pulumi's mocks.
  const { deployKubernetes } = require("../../infra/targets/kubernetes/index") as typeof program;
  const outputs = deployKubernetes(cfg);
  await settle(outputs.apiUrl);
  await settleRegistrations();
  return { cfg, resources: recorded.slice(start) };
}
