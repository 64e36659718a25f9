import fs from "node:fs";
import path from "node:path";
import type { RawStackConfig } from "../../config";
import { withSecrets } from "../../deployment";
import {
  renderAlertmanagerYml,
  renderBootstrapSql,
  renderEnabledPlugins,
  renderExporterMyCnf,
  renderMariadbCnf,
  renderNginxConf,
  renderPrometheusYml,
  renderRabbitmqConf,
  renderRabbitmqDefinitions,
  renderRedisConf,
  renderReplicaSetupSql,
  type MariadbPaths,
  type RabbitmqPeerDiscovery,
} from "../../render";
import { buildDeployConfig, SECRET_NAMES, testSecretValue } from "../../../test/support/deploy-config";
import { differenceBeyondHostsAndPorts, type TargetSpecifics } from "../../../test/support/faithful";
import {
  recordResources,
  recorded,
  settle,
  settleRegistrations,
  unwrapSecrets,
} from "../../../test/support/pulumi-mocks";
import { zip } from "../../../test/support/checked";
import { REPO_ROOT } from "../../../test/support/stack-config";
import { firstAddress, localAddresses, type Addresses, type Topology } from "../../topology";
import { kubernetesAddresses } from "./addresses";
import type * as program from "./index";
import { RUNBOOK_STACK_SECRET } from "./runbooks";

// Every file the Kubernetes program mounts (ConfigMap entries, and Secret entries that are files)
// must be exactly a renderer's output for the Kubernetes addresses, and differ from the local
// stack's rendering only in hosts, ports and paths. The options are spelled out here, apart from
// infra/targets/kubernetes/, so a hand-edited file or a changed option shows up.

interface Rendering {
  text: string;
  specifics: TargetSpecifics;
}
interface Expected {
  target: Rendering;
  local?: Rendering;
  /** Removes what only this target renders (the local stack runs one RabbitMQ node) before comparing with local. */
  targetOnly?: (text: string) => string;
}

const RULES_DIR = path.join(REPO_ROOT, "monitoring", "rules");
const ruleFiles = fs
  .readdirSync(RULES_DIR)
  .filter((f) => f.endsWith(".yml"))
  .sort();
const LOCAL = "/repo/.floodgate";
const pathsOf = (p: object) => Object.values(p) as string[];
const K8S_MARIADB: MariadbPaths = {
  // A folder in the volume mounted at /var/lib/mysql: mysql can chown only a folder it created.
  datadir: "/var/lib/mysql/data",
  socket: "/run/mysqld/mysqld.sock",
  pidFile: "/run/mysqld/mysqld.pid",
  errorLog: "/var/log/mysql/error.log",
  tmpdir: "/tmp",
};
const localMariadb = (name: string): MariadbPaths => ({
  datadir: `${LOCAL}/${name}/data`,
  socket: `/tmp/fg-${name}.sock`,
  pidFile: `${LOCAL}/${name}/mariadbd.pid`,
  errorLog: `${LOCAL}/logs/${name}.log`,
  tmpdir: `${LOCAL}/${name}/tmp`,
});

function expectedFiles(t: Topology, a: Addresses, accessKey: string, secretKey: string): Map<string, Expected> {
  // Every API slot is listed; compare with a local stack running as many API processes. Kubernetes
  // runs no autoscaler (KEDA scales): the one difference in components.
  const local1 = localAddresses({ ...t, api: { ...t.api, replicas: a.api.length } });
  // Likewise every RabbitMQ node is scraped, where the local stack runs one: compare with as many.
  const la: Addresses = {
    ...local1,
    autoscaler: undefined,
    rabbitmqNodeMetrics: a.rabbitmqNodeMetrics.map(() => local1.rabbitmqPrometheus),
  };
  const k8s = (text: string, bareHosts: string[] = [], paths: string[] = []): Rendering => ({
    text,
    specifics: { addresses: a, bareHosts: ["0.0.0.0", ...bareHosts], paths },
  });
  const local = (text: string, bareHosts: string[] = [], paths: string[] = []): Rendering => ({
    text,
    specifics: { addresses: la, bareHosts: ["127.0.0.1", ...bareHosts], paths },
  });
  const files = new Map<string, Expected>();
  const nginxK8s = {
    prefix: "/var/cache/nginx",
    staticRoot: "/srv/static",
    pidFile: "/tmp/nginx.pid",
    errorLog: "/dev/stderr",
    accessLog: "/dev/stdout",
  };
  const nginxLocal = {
    prefix: `${LOCAL}/nginx`,
    staticRoot: `${LOCAL}/static`,
    pidFile: `${LOCAL}/nginx/nginx.pid`,
    errorLog: `${LOCAL}/logs/nginx.log`,
    accessLog: `${LOCAL}/logs/nginx-access.log`,
  };
  files.set("nginx-conf:nginx.conf", {
    target: k8s(renderNginxConf(t, a, { bindHost: "0.0.0.0", paths: nginxK8s }), ["127.0.0.1"], pathsOf(nginxK8s)),
    // stub_status stays allowed to 127.0.0.1 only: the exporter runs beside nginx in the same pod.
    // The image runs nginx as its own user, and locally the invoking user runs it: no user directive.
    local: local(renderNginxConf(t, la, { bindHost: "127.0.0.1", paths: nginxLocal }), [], pathsOf(nginxLocal)),
  });
  const servers = [a.mysqlPrimary, ...a.mysqlReplicas];
  const localServers = [la.mysqlPrimary, ...la.mysqlReplicas];
  zip(servers, localServers).forEach(([at, localAt], i) => {
    const name = i === 0 ? "mysql-primary" : `mysql-replica-${i}`;
    const opts = { role: i === 0 ? "primary" : "replica", serverId: i + 1 } as const;
    files.set(`${name}-cnf:my.cnf`, {
      target: k8s(
        renderMariadbCnf(t, { ...opts, port: at.port, bindHost: "0.0.0.0", paths: K8S_MARIADB }),
        [],
        pathsOf(K8S_MARIADB),
      ),
      local: local(
        renderMariadbCnf(t, { ...opts, port: localAt.port, bindHost: "127.0.0.1", paths: localMariadb(name) }),
        [],
        pathsOf(localMariadb(name)),
      ),
    });
    const exporter = i === 0 ? "mysqld-exporter-primary" : `mysqld-exporter-replica-${i}`;
    files.set(`exporter-secrets:${exporter}.cnf`, {
      target: k8s(renderExporterMyCnf(t, at), [at.host]),
      local: local(renderExporterMyCnf(t, localAt)),
    });
  });
  files.set("mysql-secrets:bootstrap.sql", {
    target: k8s(renderBootstrapSql(t, { clientHost: "%" }), ["%"]),
    local: local(renderBootstrapSql(t, { clientHost: "127.0.0.1" })),
  });
  files.set("mysql-secrets:replica-setup.sql", {
    target: k8s(renderReplicaSetupSql(t, { primary: a.mysqlPrimary }), [a.mysqlPrimary.host]),
    local: local(renderReplicaSetupSql(t, { primary: la.mysqlPrimary })),
  });
  const redisK8s = { dir: "/var/lib/redis", pidFile: "/tmp/redis.pid", logFile: '""' };
  const redisLocal = {
    dir: `${LOCAL}/redis-1`,
    pidFile: `${LOCAL}/redis-1/redis.pid`,
    logFile: `${LOCAL}/logs/redis-1.log`,
  };
  files.set("redis-secrets:redis.conf", {
    target: k8s(
      renderRedisConf(t, { port: firstAddress(a, "redis").port, bindHost: "0.0.0.0", paths: redisK8s }),
      [],
      pathsOf(redisK8s),
    ),
    local: local(
      renderRedisConf(t, { port: firstAddress(la, "redis").port, bindHost: "127.0.0.1", paths: redisLocal }),
      [],
      pathsOf(redisLocal),
    ),
  });
  const rabbit = (r: Addresses, bindHost: string, definitionsFile: string, peerDiscovery?: RabbitmqPeerDiscovery) =>
    renderRabbitmqConf(t, {
      bindHost,
      amqpPort: r.rabbitmq.port,
      managementPort: r.rabbitmqManagement.port,
      prometheusPort: r.rabbitmqPrometheus.port,
      definitionsFile,
      peerDiscovery,
    });
  const k8sDefinitions = "/etc/rabbitmq/definitions/definitions.json";
  const localDefinitions = `${LOCAL}/rabbitmq/definitions.json`;
  // Peers are the headless Service's endpoints, each named <pod>.rabbitmq-nodes.<namespace>.svc.cluster.local.
  const podSuffix = firstAddress(a, "rabbitmqNodeMetrics").host.replace(/^rabbitmq-0/, "");
  expect(podSuffix).toMatch(/^\.rabbitmq-nodes\.[a-z0-9-]+\.svc\.cluster\.local$/);
  const discovery: RabbitmqPeerDiscovery = { backend: "k8s", serviceName: "rabbitmq-nodes", hostnameSuffix: podSuffix };
  files.set("rabbitmq-conf:rabbitmq.conf", {
    target: k8s(rabbit(a, "0.0.0.0", k8sDefinitions, discovery), [], [k8sDefinitions]),
    local: local(rabbit(la, "127.0.0.1", localDefinitions), [], [localDefinitions]),
    targetOnly: (text) => text.replace(/^cluster_.*\n/gm, ""),
  });
  files.set("rabbitmq-conf:enabled_plugins", {
    target: k8s(renderEnabledPlugins({ k8sPeerDiscovery: true })),
    local: local(renderEnabledPlugins()),
    targetOnly: (text) => text.replace(",rabbitmq_peer_discovery_k8s", ""),
  });
  files.set("rabbitmq-secrets:definitions.json", {
    target: k8s(renderRabbitmqDefinitions(t)),
    local: local(renderRabbitmqDefinitions(t)),
  });
  const k8sRules = ruleFiles.map((f) => `/etc/prometheus/rules/${f}`);
  const localRules = ruleFiles.map((f) => path.join(RULES_DIR, f));
  files.set("prometheus-conf:prometheus.yml", {
    target: k8s(renderPrometheusYml(t, a, { ruleFiles: k8sRules }), [], k8sRules),
    local: local(renderPrometheusYml(t, la, { ruleFiles: localRules }), [], localRules),
  });
  for (const f of ruleFiles)
    files.set(`prometheus-rules:${f}`, { target: k8s(fs.readFileSync(path.join(RULES_DIR, f), "utf8")) });
  files.set("alertmanager-conf:alertmanager.yml", {
    target: k8s(renderAlertmanagerYml(t, a)),
    local: local(renderAlertmanagerYml(t, la)),
  });
  // SeaweedFS's own identities file, spelled out here rather than through renderS3Identities: admin
  // on the two buckets alone (bucket-init creates them over S3). No local counterpart (the local
  // stack has no object store).
  const identity = {
    name: "floodgate",
    credentials: [{ accessKey, secretKey }],
    actions: ["Read", "List", "Write", "Tagging", `Admin:${t.name}-static`, `Admin:${t.name}-backups`],
  };
  files.set("bucket-secrets:s3.json", { target: k8s(JSON.stringify({ identities: [identity] })) });
  return files;
}

const SCALED: RawStackConfig = {
  kubernetesNamespace: "shop",
  topology: {
    mysql: { replicas: 2 },
    redis: { masters: 3, replicasPerMaster: 2 },
    autoscaling: { minReplicas: 3, maxReplicas: 8 },
    monitoring: { oncallWebhookUrl: "https://oncall.example.com/hook" },
  },
};

describe.each([
  ["default", {}],
  ["scaled", SCALED],
] as const)("configs the Kubernetes target mounts (%s config)", (_label, raw) => {
  let mounted: Map<string, string>;
  let expected: Map<string, Expected>;

  beforeAll(async () => {
    await recordResources("kubernetes");
    const start = recorded.length;
    const cfg = buildDeployConfig("kubernetes", raw);
    const { deployKubernetes } = require("./index") as typeof program;
    await settle(deployKubernetes(cfg).apiUrl);
    const resources = (await settleRegistrations()).slice(start);
    const entries = (type: string, field: string, isFile: (key: string) => boolean) =>
      resources
        .filter((r) => r.type === type)
        .flatMap((r) => {
          const inputs = unwrapSecrets(r.inputs) as { metadata: { name: string } } & Record<
            string,
            Record<string, string>
          >;
          return Object.entries(inputs[field] ?? {})
            .filter(([key]) => isFile(key))
            .map(([key, text]): [string, string] => [`${inputs.metadata.name}:${key}`, text]);
        });
    // Secret entries without a dot in their key are single values (passwords, the cookie), not files.
    // The runbook stack file is not a service config but the runbooks' view of the stack (JSON of the
    // secret topology, addresses and processes): infra/targets/kubernetes/program.test.ts checks it.
    mounted = new Map(
      [
        ...entries("kubernetes:core/v1:ConfigMap", "data", () => true),
        ...entries("kubernetes:core/v1:Secret", "stringData", (k) => k.includes(".")),
      ].filter(([key]) => key !== `${RUNBOOK_STACK_SECRET.name}:${RUNBOOK_STACK_SECRET.key}`),
    );
    const values = Object.fromEntries(SECRET_NAMES.map((n) => [n, testSecretValue(n)]));
    const t = withSecrets(cfg.topology, values);
    expected = expectedFiles(
      t,
      kubernetesAddresses(t, { namespace: cfg.kubernetes.namespace }),
      testSecretValue("bucketAccessKey"),
      testSecretValue("bucketSecretKey"),
    );
  });

  it("mounts no file that is not a renderer's output or a monitoring/ rule file", () => {
    expect([...mounted.keys()].filter((k) => !expected.has(k))).toEqual([]);
    expect([...expected.keys()].filter((k) => !mounted.has(k))).toEqual([]);
  });

  it("mounts exactly what the renderers produce for the Kubernetes addresses", () => {
    for (const [key, e] of expected) expect([key, mounted.get(key)]).toEqual([key, e.target.text]);
  });

  it("differs from the local stack's rendering only in hosts, ports and paths", () => {
    const compared = [...expected].filter(([, e]) => e.local);
    expect(compared.length).toBeGreaterThan(8);
    for (const [key, e] of compared) {
      const text = (e.targetOnly ?? ((x: string) => x))(mounted.get(key) ?? "");
      expect([key, differenceBeyondHostsAndPorts({ ...e.target, text }, e.local!)]).toEqual([key, undefined]);
    }
  });
});
