import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { IMAGE_USERS } from "../../infra/config";
import { MARIADB_DATADIR_IN_VOLUME } from "../../infra/targets/kubernetes/mounted-files";
import { kubernetesProcesses, RUNBOOK_ROLE_RULES } from "../../infra/targets/kubernetes/runbooks";
import type { StackFileInput } from "../../infra/targets/stack-file";
import { eventually, liveQueue, testAddresses, testTopology } from "../stack/clients";
import { testLayout } from "../stack/test-stack";
import {
  plainRules,
  serveFakeKubernetesApi,
  stackCluster,
  type FakeKubernetesApi,
} from "../support/fake-kubernetes-api";
import { failoverDrill, runbook, tcpAdmin, testControl } from "./support";

// The runbooks' Kubernetes target, run as on-call runs it (a child process, `--target k8s` with a
// runbook stack file whose `kubernetes.api` is a kubectl-proxy-style URL), against the live test
// stack: stores by address over TCP, processes as StatefulSet pods through the Kubernetes API, here
// a fake answered by the test stack itself (test/support/fake-kubernetes-api.ts, which says what it
// cannot prove), with the program's own process-to-pod mapping and the runbooks Role's rules.

const admin = tcpAdmin("runbook_k8s");
const NAMESPACE = "floodgate";
const processes = () => kubernetesProcesses(testTopology());
let api: FakeKubernetesApi;
let cluster: Awaited<ReturnType<typeof stackCluster>>;
let stackFile: string;

const k8s = (name: string, ...args: string[]) => runbook(name, "--target", "k8s", "--stack-file", stackFile, ...args);
const scale = (statefulSet: string, replicas: number) =>
  fetch(`${api.url}/apis/apps/v1/namespaces/${NAMESPACE}/statefulsets/${statefulSet}/scale`, {
    method: "PATCH",
    headers: { "content-type": "application/merge-patch+json" },
    body: JSON.stringify({ spec: { replicas } }),
  });

beforeAll(async () => {
  await admin.create();
  // Each MariaDB server's claim is its folder on the test stack, whose `data` is its datadir, as
  // the MariaDB pods keep theirs in a `data` folder of the claim.
  expect(MARIADB_DATADIR_IN_VOLUME).toBe("data");
  const claims = Object.fromEntries(
    processes()
      .filter((p) => p.volume)
      .map((p) => [p.volume!, testLayout().dir(p.name)]),
  );
  cluster = await stackCluster(processes(), claims, testControl());
  // Every call the runbooks make must be one the program's Role allows (a 403 otherwise).
  api = await serveFakeKubernetesApi(cluster, {
    namespace: NAMESPACE,
    rules: plainRules(RUNBOOK_ROLE_RULES),
    user: `system:serviceaccount:${NAMESPACE}:runbooks`,
  });
  const file: StackFileInput = {
    target: "k8s",
    topology: testTopology(),
    addresses: testAddresses(),
    mysqlAdmin: admin.account,
    processes: processes(),
    kubernetes: {
      namespace: NAMESPACE,
      image: "floodgate-app",
      api: api.url,
      // What the program writes (infra/targets/kubernetes/runbooks.ts); the stand-in runs pods as this process.
      mariadbData: { uid: IMAGE_USERS.mariadb.uid, gid: IMAGE_USERS.mariadb.gid, dir: MARIADB_DATADIR_IN_VOLUME },
    },
  };
  stackFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-")), "runbook-stack.json");
  fs.writeFileSync(stackFile, JSON.stringify(file), { mode: 0o600 });
});

afterAll(async () => {
  await api?.close();
  await admin.drop();
});

describe("runbooks with --target k8s", () => {
  it("status reads the StatefulSet pods through the Kubernetes API and every store over TCP", async () => {
    const { out } = await k8s("status");
    expect(out).toContain(`processes of the Kubernetes stack in namespace ${NAMESPACE}`);
    expect(out).toMatch(/ok: process redis-1: running/);
    expect(out).toMatch(/ok: process worker-orders-2: running/);
    expect(out).toMatch(/ok: mysql-primary: read_only=0/);
    expect(out).toMatch(/ok: mysql-replica-1: IO Yes, SQL Yes/);
    expect(api.calls).toContain(`GET /api/v1/namespaces/${NAMESPACE}/pods/worker-orders-1`);
  });

  it("queue-drain --start-workers scales a StatefulSet scaled to zero back up to its workers", async () => {
    expect((await scale("worker-orders", 0)).status).toBe(200);
    try {
      await eventually(async () => ((await liveQueue("orders")).consumerCount === 0 ? true : undefined), 30_000);
      const fix = await k8s("queue-drain", "--start-workers", "--apply", "--yes", "--wait-seconds", "60");
      expect(fix.out).toMatch(/done\s+start worker-orders-1/);
      expect(fix.out).toMatch(/done\s+start worker-orders-2/);
      expect(fix.out).toMatch(/ok: queue orders consumed again/);
      const patches = api.calls.filter((c) => c.startsWith("PATCH") && c.includes("worker-orders"));
      expect(patches.length).toBeGreaterThanOrEqual(3); // the test's scale to 0, then 1, then 2
    } finally {
      await scale("worker-orders", 2);
    }
  });
});

describe("scale-api with --target k8s", () => {
  it("reads the api StatefulSet's replicas and each pod, and keeps a count within the autoscaling bounds", async () => {
    const { minReplicas, maxReplicas } = testTopology().autoscaling;
    const running = testTopology().api.replicas;
    const check = await k8s("scale-api", "--replicas", String(running));
    expect(check.out).toMatch(
      new RegExp(`ok: Kubernetes API answers: ${running} replicas wanted, bounds ${minReplicas}–${maxReplicas}`),
    );
    expect(check.out).toMatch(new RegExp(`ok: ${running} replicas: already wanted, nothing to do`));
    expect(check.out).toMatch(/ok: api-1: ready/);
    expect(check.code).toBe(0);

    const outside = await k8s("scale-api", "--replicas", String(maxReplicas + 1));
    expect(outside.code).toBe(2);
    expect(outside.out).toMatch(new RegExp(`--replicas ${maxReplicas + 1}: outside the autoscaling bounds`));
  });
});

describe("drill on the Kubernetes target: the MariaDB primary crash-loops", () => {
  afterAll(() => cluster.crashing.clear());

  it("mysql-failover reads the binlog and swaps the claims in one-shot pods; the old primary rejoins", async () => {
    // The StatefulSet controller cannot bring it back.
    const out = await failoverDrill(k8s, "k8s_failover_probe", () => void cluster.crashing.add("mysql-primary"));
    expect(out).toMatch(/the last transaction its binary log committed \(claim data-mysql-primary-0\)/);
    const created = api.calls.filter((c) =>
      c.startsWith(`POST /api/v1/namespaces/${NAMESPACE}/pods application/json `),
    );
    expect(created).toHaveLength(2);
  });
});
