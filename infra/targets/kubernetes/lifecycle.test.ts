import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, SECRET_NAMES } from "../../config";
import type { SecretName } from "../../deployment";
import { testSecrets } from "../../../test/support/deploy-config";
import {
  recordResources,
  recorded,
  settle,
  settleRegistrations,
  unwrapSecrets,
  upstreamOf,
  type RecordedResource,
} from "../../../test/support/pulumi-mocks";
import { redisNodeCount } from "../../topology";
import { apiSlotName } from "./addresses";
import { migrationJobName } from "./app-pod";
import type * as program from "./index";
import { SECRETS_DIGEST_ANNOTATION } from "./pod-secrets";

// The Kubernetes program's ordering and its answer to a rotated secret, under Pulumi's mocks. What
// the mocks cannot show: that the cluster runs the Jobs (the scripts themselves run against real
// MariaDB and Redis in infra/render/*.test.ts and infra/targets/docker/job-scripts.test.ts).

const WORKLOAD = /:(Job|StatefulSet|Deployment|DaemonSet|CronJob)$/;
// Two MariaDB replicas, so the replica-setup Jobs are more than one; the admin UIs published, so
// the admin gateway reads its password.
const RAW = {
  target: "kubernetes" as const,
  kubernetesNamespace: "fg-life",
  adminPort: 9090,
  adminSourceRanges: "203.0.113.0/24",
  topology: { mysql: { replicas: 2 } },
};
let deployKubernetes: typeof program.deployKubernetes;
let base: RecordedResource[];

async function deploy(rotated: SecretName[] = []): Promise<RecordedResource[]> {
  const start = recorded.length;
  const secrets = testSecrets();
  for (const name of rotated) secrets[name] = pulumi.secret(`ROTATED-${name}-5e1c9a7b3d2f4e6a8c0b`);
  await settle(deployKubernetes(parseStackConfig(RAW, secrets)).apiUrl, 60_000);
  return (await settleRegistrations()).slice(start);
}

const key = (r: RecordedResource) =>
  `${r.type.split(":").pop()}/${String((r.inputs.metadata as { name?: string })?.name)}`;

/** The workloads whose spec differs from the base deployment's: a Job is replaced (so runs again), a set rolls. */
async function changedBy(...secrets: SecretName[]): Promise<string[]> {
  const before = new Map(base.filter((r) => WORKLOAD.test(r.type)).map((r) => [key(r), r]));
  const after = (await deploy(secrets)).filter((r) => WORKLOAD.test(r.type));
  const spec = (r: RecordedResource) => JSON.stringify((unwrapSecrets(r.inputs) as { spec?: unknown }).spec);
  return after
    .filter((r) => {
      const was = before.get(key(r));
      if (!was) throw new Error(`${key(r)} is new after the rotation`);
      return spec(r) !== spec(was);
    })
    .map(key)
    .sort();
}

beforeAll(async () => {
  await recordResources("kubernetes");
  deployKubernetes = (require("./index") as typeof program).deployKubernetes;
  base = await deploy();
});

describe("the order of a Kubernetes deployment", () => {
  it("runs the stores' Jobs, then the migration, then the API and workers; nginx after the slot Services", () => {
    const urn = (k: string) => {
      const r = base.find((x) => key(x) === k);
      if (!r) throw new Error(`no ${k}`);
      return r.urn;
    };
    const migrate = `Job/${migrationJobName(parseStackConfig(RAW, testSecrets()).images.app)}`;
    const t = parseStackConfig(RAW, testSecrets()).topology;
    const setups = [1, 2].map((i) => `Job/mysql-replica-${i}-setup`);
    const slots = Array.from({ length: t.autoscaling.maxReplicas }, (_, i) => `Service/${apiSlotName(i)}`);
    const edges: Array<[later: string, earlier: string]> = [
      ["Job/mysql-bootstrap", "StatefulSet/mysql-primary"],
      ...setups.flatMap((s, i): Array<[string, string]> => [
        [s, "Job/mysql-bootstrap"],
        [s, `StatefulSet/mysql-replica-${i + 1}`],
      ]),
      ["Job/redis-cluster-form", "StatefulSet/redis-shard-0"],
      ["Job/redis-cluster-form", `StatefulSet/redis-shard-${t.redis.masters - 1}`],
      ["Job/bucket-init", "StatefulSet/bucket"],
      ...["Job/mysql-bootstrap", ...setups, "Job/redis-cluster-form", "StatefulSet/rabbitmq", "Job/bucket-init"].map(
        (store): [string, string] => [migrate, store],
      ),
      ["StatefulSet/api", migrate],
      ["StatefulSet/worker-orders", migrate],
      ...slots.map((slot): [string, string] => ["Deployment/nginx", slot]),
    ];
    expect(redisNodeCount(t)).toBeGreaterThan(1);
    const missing = edges.filter(([later, earlier]) => !upstreamOf(urn(later), base).has(urn(earlier)));
    expect(missing).toEqual([]);
    const reversed = edges.filter(([later, earlier]) => upstreamOf(urn(earlier), base).has(urn(later)));
    expect(reversed).toEqual([]);
  });
});

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** "secret/key" of every Secret value a workload's pod template reads (whole Secrets as "secret/*"). */
function reads(r: RecordedResource): string[] {
  const spec = (unwrapSecrets(r.inputs) as Obj).spec;
  const pod = (spec.jobTemplate ? spec.jobTemplate.spec.template : spec.template).spec as Obj;
  const found: string[] = [];
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const e of c.env ?? [])
      if (e.valueFrom?.secretKeyRef) found.push(`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`);
    for (const e of c.envFrom ?? []) if (e.secretRef) found.push(`${e.secretRef.name}/*`);
  }
  for (const v of pod.volumes ?? []) {
    if (!v.secret) continue;
    if (v.secret.items?.length) for (const i of v.secret.items) found.push(`${v.secret.secretName}/${i.key}`);
    else found.push(`${v.secret.secretName}/*`);
  }
  return found;
}

/** "secret/key" of every Secret value that differs between two deployments, plus "secret/*" for each changed Secret. */
function changedValues(before: RecordedResource[], after: RecordedResource[]): Set<string> {
  const data = (rs: RecordedResource[]) =>
    new Map(
      rs
        .filter((r) => r.type === "kubernetes:core/v1:Secret")
        .map((r) => {
          const inputs = unwrapSecrets(r.inputs) as Obj;
          return [String(inputs.metadata.name), (inputs.stringData ?? {}) as Record<string, string>];
        }),
    );
  const was = data(before);
  const changed = new Set<string>();
  for (const [name, values] of data(after)) {
    for (const [k, v] of Object.entries(values)) {
      if (was.get(name)?.[k] !== v) changed.add(`${name}/${k}`).add(`${name}/*`);
    }
  }
  return changed;
}

describe("rotating a secret on Kubernetes", () => {
  // MariaDB reads MARIADB_ROOT_PASSWORD only when it initialises an empty datadir; the bootstrap Job
  // applies a rotated one in place. Restarting the servers for it would be an outage for nothing.
  const FIRST_START_ONLY = /^StatefulSet\/mysql-(primary|replica-\d+)$/;

  it.each(SECRET_NAMES)("rolls exactly the pods that read %s, and re-runs exactly the Jobs that do", async (name) => {
    const after = await deploy([name]);
    const values = changedValues(base, after);
    expect(values.size).toBeGreaterThan(0);
    const was = new Map(base.filter((r) => WORKLOAD.test(r.type)).map((r) => [key(r), r]));
    const spec = (r: RecordedResource) => JSON.stringify((unwrapSecrets(r.inputs) as Obj).spec);
    const workloads = after.filter((r) => WORKLOAD.test(r.type));
    const changed = workloads.filter((r) => spec(r) !== spec(was.get(key(r))!)).map(key);
    const readers = workloads
      .filter((r) => reads(r).some((v) => values.has(v)))
      .map(key)
      .filter((k) => !FIRST_START_ONLY.test(k));
    expect(changed.sort()).toEqual(readers.sort());
  });

  it("re-runs the MariaDB Jobs on a rotated root password, restarting no server", async () => {
    const changed = await changedBy("mysqlRootPassword");
    expect(changed.filter((k) => k.startsWith("Job/mysql"))).toEqual([
      "Job/mysql-bootstrap",
      "Job/mysql-replica-1-setup",
      "Job/mysql-replica-2-setup",
    ]);
    expect(changed.filter((k) => /^StatefulSet\/mysql-/.test(k))).toEqual([]);
  });

  it("re-runs the bootstrap (the user's password) and each replica's setup (re-pointing it) on a rotated replication password", async () => {
    const changed = await changedBy("mysqlReplicationPassword");
    expect(changed.filter((k) => k.startsWith("Job/mysql"))).toEqual([
      "Job/mysql-bootstrap",
      "Job/mysql-replica-1-setup",
      "Job/mysql-replica-2-setup",
    ]);
  });

  it("re-runs no MariaDB Job when a secret they do not apply changes", async () => {
    const changed = await changedBy("jwtSecret");
    expect(changed.filter((k) => k.startsWith("Job/mysql"))).toEqual([]);
  });

  it("has each MariaDB Job log in with the password it last applied, record the new one, and wait a bounded time", () => {
    const jobs = base.filter((r) => r.type.endsWith(":Job") && key(r).startsWith("Job/mysql"));
    expect(jobs).toHaveLength(3);
    for (const job of jobs) {
      const pod = (unwrapSecrets(job.inputs) as { spec: { template: Record<string, any> } }).spec.template; // eslint-disable-line @typescript-eslint/no-explicit-any
      const script = (pod.spec.containers[0].command as string[]).join(" ");
      expect(script).toMatch(/did not answer within \d+ s/);
      expect(script).toContain("/var/lib/mysql-credentials/mysql-root");
      const claim = pod.spec.volumes.find((v: { persistentVolumeClaim?: unknown }) => v.persistentVolumeClaim);
      expect(claim.persistentVolumeClaim.claimName).toBe("mysql-credentials");
      expect(pod.spec.securityContext.fsGroup).toBeGreaterThan(0);
      expect(pod.metadata.annotations[SECRETS_DIGEST_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
