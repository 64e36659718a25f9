import fs from "node:fs";
import path from "node:path";
import type { RawStackConfig } from "./config";
import { bucketNames, S3_IDENTITIES_FILE } from "./targets/docker/bucket-scripts";
import { withSecrets, type DeployConfig } from "./deployment";
import type * as dockerTarget from "./targets/docker";
import { dockerAddresses } from "./targets/docker/addresses";
import { RABBITMQ_USERS_FILE } from "./targets/docker/rabbitmq";
import { REDIS_AUTH_FILES, REDIS_AUTH_UPLOADS } from "./targets/docker/redis-auth";
import {
  renderAlertmanagerYml,
  renderBootstrapSql,
  renderEnabledPlugins,
  renderExporterMyCnf,
  renderMariadbCnf,
  renderApiUpstream,
  renderNginxConf,
  renderPrometheusYml,
  renderRabbitmqConf,
  renderRabbitmqDefinitions,
  renderRabbitmqUsers,
  renderRedisAcl,
  renderRedisConf,
  renderRedisReplicationAuth,
  renderReplicaSetupSql,
  renderS3Identities,
  type MariadbPaths,
} from "./render";
import { buildDeployConfig, SECRET_NAMES, testSecretValue } from "../test/support/deploy-config";
import { differenceBeyondHostsAndPorts, type TargetSpecifics } from "../test/support/faithful";
import { zip } from "../test/support/checked";
import { recordResources, recorded, settle, settleRegistrations, unwrapSecrets } from "../test/support/pulumi-mocks";
import { REPO_ROOT } from "../test/support/stack-config";
import { localAddresses, type Addresses, type Topology } from "./topology";
import { STACK_FILE_PATH } from "./targets/stack-file";

// Every file the Docker program mounts must be exactly a renderer's output for the Docker addresses
// (or a monitoring/ rule file, verbatim), and differ from the local stack's rendering of the same
// topology only in hosts, ports and paths. The renderer calls below spell out the Docker target's
// options independently of infra/targets/docker/, so a hand-written file or a changed option shows up here.

interface Rendering {
  text: string;
  specifics: TargetSpecifics;
}
interface Expected {
  target: Rendering;
  /** The local stack's rendering of the same file; undefined for files copied verbatim. */
  local?: Rendering;
  /** The file as the server reads it, its includes in place (from every mounted file), to compare with `local`. */
  effective?: (mounted: Map<string, string>) => string;
}

const RULES_DIR = path.join(REPO_ROOT, "monitoring", "rules");
const ruleFiles = fs
  .readdirSync(RULES_DIR)
  .filter((f) => f.endsWith(".yml"))
  .sort();
const LOCAL = "/repo/.floodgate";
const localMariadb = (name: string): MariadbPaths => ({
  datadir: `${LOCAL}/${name}/data`,
  socket: `/tmp/fg-${name}.sock`,
  pidFile: `${LOCAL}/${name}/mariadbd.pid`,
  errorLog: `${LOCAL}/logs/${name}.log`,
  tmpdir: `${LOCAL}/${name}/tmp`,
});
const DOCKER_MARIADB: MariadbPaths = {
  datadir: "/var/lib/mysql",
  socket: "/run/mysqld/mysqld.sock",
  pidFile: "/run/mysqld/mysqld.pid",
  errorLog: "/var/log/mysql/error.log",
  tmpdir: "/tmp",
};
const pathsOf = (p: object) => Object.values(p) as string[];

/** Every file the Docker target should mount, keyed `container:path`, with the local stack's counterpart. */
function expectedDockerFiles(cfg: DeployConfig, t: Topology, a: Addresses): Map<string, Expected> {
  const subnet = cfg.docker.subnet ?? "172.28.0.0/16";
  const clientHost = `${subnet.split(".").slice(0, 2).join(".")}.0.0/255.255.0.0`;
  // Docker lists every API slot (up to the autoscaler's maximum) where it scrapes them; compare with
  // the local stack running as many API processes, on the port range the topology reserves for them.
  const la = localAddresses({ ...t, api: { ...t.api, replicas: a.api.length } });
  // nginx's upstream starts with the first api.replicas slots (the autoscaler keeps it to the running
  // ones after): compare with the local stack running that many.
  const laRunning = localAddresses(t);
  const docker = (text: string, bareHosts: string[] = [], paths: string[] = []): Rendering => ({
    text,
    specifics: { addresses: a, bareHosts: ["0.0.0.0", ...bareHosts], paths },
  });
  const local = (text: string, bareHosts: string[] = [], paths: string[] = []): Rendering => ({
    text,
    specifics: { addresses: la, bareHosts: ["127.0.0.1", ...bareHosts], paths },
  });
  const files = new Map<string, Expected>();
  const nginxDocker = {
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
  // The api upstream is a file of its own on Docker (the autoscaler keeps it to the running slots),
  // deployed with the first api.replicas slots: in place, the config is the local stack's.
  const upstreamFile = "/etc/nginx/floodgate/api-upstream.conf";
  files.set(`nginx:${upstreamFile}`, {
    target: docker(renderApiUpstream(a.api.slice(0, t.api.replicas))),
  });
  files.set("nginx:/etc/nginx/floodgate/nginx.conf", {
    target: docker(
      renderNginxConf(t, a, {
        bindHost: "0.0.0.0",
        statusAllow: [subnet],
        paths: nginxDocker,
        apiUpstreamInclude: upstreamFile,
      }),
      [subnet],
      pathsOf(nginxDocker),
    ),
    local: {
      text: renderNginxConf(t, laRunning, { bindHost: "127.0.0.1", paths: nginxLocal }),
      specifics: { addresses: laRunning, bareHosts: ["127.0.0.1"], paths: pathsOf(nginxLocal) },
    },
    effective: (mounted) =>
      (mounted.get("nginx:/etc/nginx/floodgate/nginx.conf") ?? "").replace(
        `    include ${upstreamFile};`,
        (mounted.get(`nginx:${upstreamFile}`) ?? "").trimEnd(),
      ),
  });
  const servers = [a.mysqlPrimary, ...a.mysqlReplicas];
  const localServers = [la.mysqlPrimary, ...la.mysqlReplicas];
  zip(servers, localServers).forEach(([at, localAt], i) => {
    const role = i === 0 ? "primary" : "replica";
    const name = i === 0 ? "mysql-primary" : `mysql-replica-${i}`;
    const opts = { role, serverId: i + 1, port: at.port } as const;
    files.set(`${name}:/etc/mysql/floodgate/my.cnf`, {
      target: docker(
        renderMariadbCnf(t, { ...opts, bindHost: "0.0.0.0", paths: DOCKER_MARIADB }),
        [],
        pathsOf(DOCKER_MARIADB),
      ),
      local: local(
        renderMariadbCnf(t, { ...opts, bindHost: "127.0.0.1", paths: localMariadb(name) }),
        [],
        pathsOf(localMariadb(name)),
      ),
    });
    if (i > 0) {
      files.set(`${name}-setup:/floodgate-sql/${name}-setup.sql`, {
        target: docker(renderReplicaSetupSql(t, { primary: a.mysqlPrimary }), [a.mysqlPrimary.host]),
        local: local(renderReplicaSetupSql(t, { primary: la.mysqlPrimary })),
      });
    }
    const exporter = i === 0 ? "mysqld-exporter-primary" : `mysqld-exporter-replica-${i}`;
    files.set(`${exporter}:/etc/mysqld-exporter/my.cnf`, {
      target: docker(renderExporterMyCnf(t, at), [at.host]),
      local: local(renderExporterMyCnf(t, localAt)),
    });
  });
  files.set("mysql-bootstrap:/floodgate-sql/mysql-bootstrap.sql", {
    target: docker(renderBootstrapSql(t, { clientHost }), [clientHost]),
    local: local(renderBootstrapSql(t, { clientHost: "127.0.0.1" })),
  });
  zip(a.redis, la.redis).forEach(([node, localNode], i) => {
    const dockerPaths = { dir: "/var/lib/redis", pidFile: "/tmp/redis.pid", logFile: '""' };
    const localPaths = {
      dir: `${LOCAL}/redis-${i + 1}`,
      pidFile: `${LOCAL}/redis-${i + 1}/redis.pid`,
      logFile: `${LOCAL}/logs/redis-${i + 1}.log`,
    };
    const conf = `redis-${i + 1}:/etc/redis/floodgate/redis.conf`;
    files.set(conf, {
      target: docker(
        renderRedisConf(t, { port: node.port, bindHost: "0.0.0.0", paths: dockerPaths, auth: REDIS_AUTH_FILES }),
        [],
        pathsOf(dockerPaths),
      ),
      // The users and the replication credentials sit in the node's volume, written there by the
      // auth jobs from the files they are given: in place, the conf says what the local one says.
      effective: (mounted) =>
        (mounted.get(conf) ?? "").replace(
          `aclfile ${REDIS_AUTH_FILES.aclFile}\ninclude ${REDIS_AUTH_FILES.includeFile}\n`,
          (mounted.get(`redis-auth:${REDIS_AUTH_UPLOADS}/users.acl`) ?? "") +
            (mounted.get(`redis-auth:${REDIS_AUTH_UPLOADS}/replication.conf`) ?? ""),
        ),
      local: local(
        renderRedisConf(t, { port: localNode.port, bindHost: "127.0.0.1", paths: localPaths }),
        [],
        pathsOf(localPaths),
      ),
    });
  });
  // Both auth jobs are given the same files; the nodes' configs include them (above).
  for (const job of ["redis-auth", "redis-auth-finish"]) {
    files.set(`${job}:${REDIS_AUTH_UPLOADS}/users.acl`, { target: docker(renderRedisAcl(t)) });
    files.set(`${job}:${REDIS_AUTH_UPLOADS}/replication.conf`, { target: docker(renderRedisReplicationAuth(t)) });
  }
  const rabbit = (r: Addresses, bindHost: string, definitionsFile: string) =>
    renderRabbitmqConf(t, {
      bindHost,
      amqpPort: r.rabbitmq.port,
      managementPort: r.rabbitmqManagement.port,
      prometheusPort: r.rabbitmqPrometheus.port,
      definitionsFile,
    });
  files.set("rabbitmq:/etc/rabbitmq/rabbitmq.conf", {
    target: docker(rabbit(a, "0.0.0.0", "/etc/rabbitmq/definitions.json"), [], ["/etc/rabbitmq/definitions.json"]),
    local: local(
      rabbit(la, "127.0.0.1", `${LOCAL}/rabbitmq/definitions.json`),
      [],
      [`${LOCAL}/rabbitmq/definitions.json`],
    ),
  });
  files.set("rabbitmq:/etc/rabbitmq/enabled_plugins", {
    target: docker(renderEnabledPlugins()),
    local: local(renderEnabledPlugins()),
  });
  const definitions = "rabbitmq:/etc/rabbitmq/definitions.json";
  const usersFile = `rabbitmq-users:${RABBITMQ_USERS_FILE}`;
  files.set(definitions, {
    target: docker(renderRabbitmqDefinitions(t, { users: false })),
    // The users job imports the users and permissions into the running broker: together they are
    // the local stack's definitions, entry for entry, in its order.
    effective: (mounted) => {
      const entries = {
        ...(JSON.parse(mounted.get(definitions) ?? "{}") as object),
        ...(JSON.parse(mounted.get(usersFile) ?? "{}") as object),
      } as Record<string, unknown>;
      const order = Object.keys(JSON.parse(renderRabbitmqDefinitions(t)) as object);
      return JSON.stringify(Object.fromEntries(order.map((k) => [k, entries[k]])), null, 2) + "\n";
    },
    local: local(renderRabbitmqDefinitions(t)),
  });
  files.set(usersFile, { target: docker(renderRabbitmqUsers(t)) });
  const dockerRules = ruleFiles.map((f) => `/etc/prometheus/rules/${f}`);
  const localRules = ruleFiles.map((f) => path.join(RULES_DIR, f));
  files.set("prometheus:/etc/prometheus/prometheus.yml", {
    target: docker(renderPrometheusYml(t, a, { ruleFiles: dockerRules }), [], dockerRules),
    local: local(renderPrometheusYml(t, la, { ruleFiles: localRules }), [], localRules),
  });
  for (const f of ruleFiles) {
    files.set(`prometheus:/etc/prometheus/rules/${f}`, {
      target: docker(fs.readFileSync(path.join(RULES_DIR, f), "utf8")),
    });
  }
  files.set("alertmanager:/etc/alertmanager/alertmanager.yml", {
    target: docker(renderAlertmanagerYml(t, a)),
    local: local(renderAlertmanagerYml(t, la)),
  });
  // SeaweedFS's identities (admin on the two buckets bucket-init creates); no local counterpart:
  // the local stack has no object store.
  const buckets = bucketNames(t.name);
  const keys = { accessKey: testSecretValue("bucketAccessKey"), secretKey: testSecretValue("bucketSecretKey") };
  files.set(`bucket:${S3_IDENTITIES_FILE}`, {
    target: docker(renderS3Identities(keys, [buckets.static, buckets.backups])),
  });
  return files;
}

// A scaled config, so the comparison covers several replicas and nodes, and a webhook in alertmanager.yml.
const SCALED: RawStackConfig = {
  dockerSubnet: "10.42.0.0/16",
  topology: {
    mysql: { replicas: 2 },
    redis: { masters: 3, replicasPerMaster: 2 },
    monitoring: { oncallWebhookUrl: "https://oncall.example.com/hook" },
  },
};

describe.each([
  ["default", {}],
  ["scaled", SCALED],
] as const)("configs the Docker target mounts (%s config)", (_label, raw) => {
  let mounted: Map<string, string>;
  let expected: Map<string, Expected>;

  beforeAll(async () => {
    await recordResources("docker");
    const start = recorded.length;
    const cfg = buildDeployConfig("docker", raw);
    const { deployDocker } = require("./targets/docker") as typeof dockerTarget;
    await settle(deployDocker(cfg).apiUrl);
    const resources = (await settleRegistrations()).slice(start);
    mounted = new Map(
      resources
        .filter((r) => r.type === "docker:index/container:Container")
        .flatMap((r) => {
          const c = unwrapSecrets(r.inputs) as { name: string; uploads?: Array<{ file: string; content: string }> };
          return (c.uploads ?? []).map((u): [string, string] => [`${c.name}:${u.file}`, u.content]);
        })
        // Not a service config but the runbooks' view of the stack (JSON of the secret topology,
        // addresses and process names); infra/targets/docker/program.test.ts checks it.
        .filter(([key]) => key !== `runbooks:${STACK_FILE_PATH}`),
    );
    const t = withSecrets(cfg.topology, Object.fromEntries(SECRET_NAMES.map((n) => [n, testSecretValue(n)])));
    expected = expectedDockerFiles(cfg, t, dockerAddresses(t, cfg.docker.subnet));
  });

  it("mounts no file that is not a renderer's output or a monitoring/ rule file", () => {
    expect([...mounted.keys()].filter((k) => !expected.has(k))).toEqual([]);
    expect([...expected.keys()].filter((k) => !mounted.has(k))).toEqual([]);
  });

  it("mounts exactly what the renderers produce for the Docker addresses", () => {
    for (const [key, e] of expected) expect([key, mounted.get(key)]).toEqual([key, e.target.text]);
  });

  it("differs from the local stack's rendering only in hosts, ports and paths", () => {
    const compared = [...expected].filter(([, e]) => e.local);
    expect(compared.length).toBeGreaterThan(8);
    for (const [key, e] of compared) {
      const text = e.effective ? e.effective(mounted) : (mounted.get(key) ?? "");
      expect([key, differenceBeyondHostsAndPorts({ ...e.target, text }, e.local!)]).toEqual([key, undefined]);
    }
  });
});

describe("the host-and-port comparison", () => {
  it("notices a difference that is not a host, port or path", () => {
    const t = buildDeployConfig("docker").topology;
    const la = localAddresses(t);
    const a = { ...la, mysqlPrimary: { host: "mysql-primary", port: la.mysqlPrimary.port } };
    const text = renderReplicaSetupSql(t, { primary: la.mysqlPrimary });
    const moved = renderReplicaSetupSql(t, { primary: a.mysqlPrimary });
    const bare = (addresses: Addresses, host: string) => ({ addresses, bareHosts: [host] });
    expect(
      differenceBeyondHostsAndPorts(
        { text: moved, specifics: bare(a, "mysql-primary") },
        { text, specifics: bare(la, "127.0.0.1") },
      ),
    ).toBeUndefined();
    const tampered = moved.replace("MASTER_CONNECT_RETRY = 1", "MASTER_CONNECT_RETRY = 60");
    expect(
      differenceBeyondHostsAndPorts(
        { text: tampered, specifics: bare(a, "mysql-primary") },
        { text, specifics: bare(la, "127.0.0.1") },
      ),
    ).toMatch(/MASTER_CONNECT_RETRY/);
  });
});
