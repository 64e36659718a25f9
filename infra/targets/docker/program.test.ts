import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { RawStackConfig } from "../../config";
import type { DeployConfig } from "../../deployment";
import { buildDeployConfig, testSecretValue, testSecretValues } from "../../../test/support/deploy-config";
import {
  componentOutputs,
  isSecretValue,
  plainOccurrences,
  recordResources,
  recorded,
  settle,
  settleRegistrations,
  unwrapSecrets,
  upstreamOf,
  type RecordedResource,
} from "../../../test/support/pulumi-mocks";
import { first, present } from "../../../test/support/checked";
import { REPO_ROOT, useStackConfig } from "../../../test/support/stack-config";
import { redisRestartDelayMs } from "../../render";
import { redisNodeCount, NAMES, rabbitmqName } from "../../topology";
import { parseAutoscalerEnv } from "../../../services/src/autoscaler/config";
import { parseBackupEnv } from "../../../services/src/backup/config";
import { parseBucketInitEnv, parseEdgeSyncEnv, parsePublisherEnv } from "../../../services/src/static-sync/config";
import { parseStackFile, STACK_FILE_PATH } from "../stack-file";
import { RABBITMQ_USERS_FILE } from "./rabbitmq";
import { BUCKET_PORTS } from "./bucket-scripts";
import type * as dockerTarget from "./index";

// Changes every count and bound the program derives, so each policy sees them follow the config.
const SCALED: RawStackConfig = {
  adminPort: 9500,
  adminBindHost: "10.0.0.5",
  publicPort: 8443,
  dockerSubnet: "10.42.0.0/16",
  topology: {
    api: { replicas: 4 },
    autoscaling: { minReplicas: 4, maxReplicas: 9, cooldownSeconds: 300 },
    redis: { masters: 4, replicasPerMaster: 2 },
    mysql: { replicas: 3 },
    rabbitmq: { nodes: 3 },
    workers: { orders: { processes: 5, concurrency: 8 }, redPacketGrabs: { processes: 1, concurrency: 4 } },
    backups: { schedule: "0 3 * * *", retentionDays: 30, keepLast: 12 },
  },
};

interface Deployed {
  cfg: DeployConfig;
  resources: RecordedResource[];
}
const deployed = {} as Record<"stack" | "scaled", Deployed>;

beforeAll(async () => {
  await recordResources("docker");
  // The real program, reading the example stack file through pulumi.Config as `pulumi up` would.
  const raw = useStackConfig("docker");
  const program = require("../../index") as { apiUrl: Parameters<typeof settle>[0] };
  await settle(program.apiUrl);
  deployed.stack = { cfg: buildDeployConfig("docker", raw), resources: [...(await settleRegistrations())] };
  const start = recorded.length;
  const cfg = buildDeployConfig("docker", SCALED);
  const { deployDocker } = require("./index") as typeof dockerTarget;
  await settle(deployDocker(cfg).apiUrl);
  deployed.scaled = { cfg, resources: (await settleRegistrations()).slice(start) };
});

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const CONTAINER = "docker:index/container:Container";
const containers = (d: Deployed) =>
  d.resources.filter((r) => r.type === CONTAINER).map((r) => unwrapSecrets(r.inputs) as Obj);
const named = (d: Deployed, name: string) => {
  const found = containers(d).find((c) => c.name === name);
  if (!found) throw new Error(`no container named ${name}`);
  return found;
};
const env = (c: Obj) =>
  Object.fromEntries((c.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
const upload = (c: Obj, file: string): string => {
  const u = (c.uploads as Obj[]).find((x) => x.file === file);
  if (!u) throw new Error(`${c.name} mounts no ${file}`);
  return u.content;
};
const appEntry = (entry: string) => ["node", `dist/services/src/main/${entry}.js`];
const isJob = (c: Obj) => c.attach === true;
const running = (c: Obj) => !isJob(c) && c.start !== false;

describe.each(["stack", "scaled"] as const)("the Docker program (%s config)", (which) => {
  const d = () => deployed[which];
  const t = () => d().cfg.topology;

  it("gives every container memory and CPU limits and a restart policy", () => {
    expect(containers(d()).length).toBeGreaterThan(20);
    for (const c of containers(d())) {
      expect({ name: c.name, memory: c.memory > 0, swap: c.memorySwap === c.memory, cpus: Number(c.cpus) > 0 }).toEqual(
        {
          name: c.name,
          memory: true,
          swap: true,
          cpus: true,
        },
      );
      expect([c.name, c.restart]).toEqual([c.name, isJob(c) ? "no" : "unless-stopped"]);
    }
  });

  it("gives every service container a health probe and waits for it; jobs are awaited to their exit", () => {
    for (const c of containers(d())) {
      if (isJob(c)) {
        expect([c.name, c.mustRun, c.healthcheck]).toEqual([c.name, false, undefined]);
        continue;
      }
      expect([c.name, (c.healthcheck?.tests ?? []).length > 1]).toEqual([c.name, true]);
      if (running(c)) expect([c.name, c.wait, c.mustRun]).toEqual([c.name, true, true]);
    }
  });

  it("publishes only nginx, and the monitoring UIs on the admin port when set", () => {
    const published = containers(d()).filter((c) => (c.ports ?? []).length > 0);
    const cfg = d().cfg;
    const expected = cfg.adminPort === undefined ? ["nginx"] : ["alertmanager", "nginx", "prometheus"];
    expect(published.map((c) => c.name).sort()).toEqual(expected);
    expect(named(d(), "nginx").ports).toEqual([{ internal: t().nginx.port, external: cfg.publicPort }]);
    if (cfg.adminPort !== undefined) {
      expect(named(d(), "prometheus").ports).toEqual([
        { internal: t().monitoring.prometheusPort, external: cfg.adminPort, ip: cfg.adminBindHost },
      ]);
      expect(named(d(), "alertmanager").ports).toEqual([
        { internal: t().monitoring.alertmanagerPort, external: cfg.adminPort + 1, ip: cfg.adminBindHost },
      ]);
    }
    for (const c of containers(d()).filter((x) => /^(mysql|redis|rabbitmq|bucket)/.test(x.name))) {
      expect([c.name, c.ports]).toEqual([c.name, undefined]);
    }
  });

  it("runs as many RabbitMQ nodes as configured, each with its volume, one cookie and the same files", () => {
    const nodes = containers(d()).filter((c) => /^rabbitmq(-\d+)?$/.test(c.name as string));
    const names = Array.from({ length: t().rabbitmq.nodes }, (_, i) => rabbitmqName(i));
    expect(nodes.map((c) => [c.name, c.hostname])).toEqual(names.map((n) => [n, n]));
    expect(new Set(nodes.map((c) => c.volumes[0].volumeName)).size).toBe(names.length);
    expect(new Set(nodes.map((c) => env(c).RABBITMQ_ERLANG_COOKIE)).size).toBe(1);
    expect(new Set(nodes.map((c) => upload(c, "/etc/rabbitmq/rabbitmq.conf"))).size).toBe(1);
    const conf = upload(first(nodes, "RabbitMQ node"), "/etc/rabbitmq/rabbitmq.conf");
    const users = named(d(), "rabbitmq-users").command[0] as string;
    for (const n of names) {
      expect(users).toContain(`rabbit@${n}`);
      if (names.length > 1) expect(conf).toContain(`= rabbit@${n}`);
    }
    const aliases = nodes.map((c) => c.networksAdvanced[0].aliases as string[]);
    expect(aliases).toEqual(names.map((n) => (names.length > 1 ? [n, "rabbitmq-cluster"] : [n])));
    expect(env(named(d(), "tracker")).RABBITMQ_ADDRESS).toBe(
      `${names.length > 1 ? "rabbitmq-cluster" : "rabbitmq"}:${t().rabbitmq.port}`,
    );
  });

  it("runs as many MariaDB replicas, Redis nodes, workers and API replicas as configured", () => {
    const names = containers(d()).map((c) => c.name as string);
    const count = (re: RegExp) => names.filter((n) => re.test(n)).length;
    expect(count(/^mysql-replica-\d+$/)).toBe(t().mysql.replicas);
    expect(count(/^mysql-replica-\d+-setup$/)).toBe(t().mysql.replicas);
    expect(count(/^redis-\d+$/)).toBe(redisNodeCount(t()));
    expect(count(/^worker-orders-\d+$/)).toBe(t().workers.orders.processes);
    expect(count(/^worker-red-packet-grabs-\d+$/)).toBe(t().workers.redPacketGrabs.processes);
    const api = containers(d()).filter((c) => /^api-\d+$/.test(c.name));
    expect(api.filter(running).length).toBe(t().api.replicas);
    expect(api.length).toBe(Math.max(t().api.replicas, t().autoscaling.maxReplicas));
    const volumes = d()
      .resources.filter((r) => r.type === "docker:index/volume:Volume")
      .map((r) => r.inputs.name);
    expect(volumes.filter((v) => /^(redis-\d+|mysql-primary|mysql-replica-\d+)-data$/.test(String(v))).length).toBe(
      redisNodeCount(t()) + 1 + t().mysql.replicas,
    );
  });

  it("deploys in order: stores, their bootstrap jobs, migrate, every API slot, then nginx", () => {
    const urnOf = (name: string) => {
      const r = d().resources.find((x) => x.type === CONTAINER && x.inputs.name === name);
      if (!r) throw new Error(`no container named ${name}`);
      return r.urn;
    };
    const names = containers(d()).map((c) => c.name as string);
    const like = (re: RegExp) => names.filter((n) => re.test(n));
    const replicas = like(/^mysql-replica-\d+$/);
    const bootstrapJobs = [
      "mysql-bootstrap",
      ...replicas.map((r) => `${r}-setup`),
      "redis-cluster-form",
      "bucket-init",
    ];
    const edges: Array<[later: string, earlier: string]> = [
      ["mysql-bootstrap", "mysql-primary"],
      ...replicas.flatMap((r): Array<[string, string]> => [
        [`${r}-setup`, r],
        [`${r}-setup`, "mysql-bootstrap"],
      ]),
      ...like(/^redis-\d+$/).map((n): [string, string] => ["redis-cluster-form", n]),
      ["bucket-init", "bucket"],
      ...bootstrapJobs.map((j): [string, string] => ["migrate", j]),
      ["migrate", "rabbitmq"],
      ...like(/^api-\d+$/).flatMap((api): Array<[string, string]> => [
        [api, "migrate"],
        ["nginx", api],
      ]),
      // Found on the real engine: the nginx exporter exits when nginx does not answer at its start.
      ["nginx-exporter", "nginx"],
    ];
    expect(edges.length).toBeGreaterThan(10);
    const missing = edges.filter(([later, earlier]) => !upstreamOf(urnOf(later), d().resources).has(urnOf(earlier)));
    expect(missing).toEqual([]);
    // And never the other way round: no store waits for what it must precede.
    const reversed = edges.filter(([later, earlier]) => upstreamOf(urnOf(earlier), d().resources).has(urnOf(later)));
    expect(reversed).toEqual([]);
  });

  it("forms the Redis cluster from every node, each only when it knows no other: masters, then their own replicas", () => {
    const form = named(d(), "redis-cluster-form");
    const script = (form.command as string[]).join(" ");
    const nodes = containers(d()).filter((c) => /^redis-\d+$/.test(c.name));
    for (const n of nodes) expect(script).toContain(`${n.networksAdvanced[0].ipv4Address}:`);
    expect(script).toMatch(/if .*cluster_known_nodes:1.*then .*--cluster create/);
    expect(script).toContain("--cluster-replicas 0");
    expect(script.match(/--cluster add-node/g)).toHaveLength(t().redis.masters * t().redis.replicasPerMaster);
  });

  it("runs only entry points the services image compiles (services/src/main/<entry>.ts)", () => {
    const entries = containers(d())
      .map((c) => (c.command as string[] | undefined)?.[1] ?? "")
      .filter((arg) => arg.startsWith("dist/services/src/main/"));
    expect(entries.length).toBeGreaterThan(0);
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, "images", "Dockerfile"), "utf8");
    expect(dockerfile).toContain("services/src/main/*.ts");
    for (const entry of new Set(entries)) {
      const source = entry.replace(/^dist\//, "").replace(/\.js$/, ".ts");
      expect({ entry, exists: fs.existsSync(path.join(REPO_ROOT, source)) }).toEqual({ entry, exists: true });
    }
  });

  it("makes a restarted Redis node sit out its replica's failover before it serves again", () => {
    const seconds = Math.ceil(redisRestartDelayMs(t()) / 1000);
    for (const n of containers(d()).filter((c) => /^redis-\d+$/.test(c.name))) {
      expect(n.command.slice(0, 2)).toEqual(["sh", "-c"]);
      expect(n.command[2]).toContain("conf='/var/lib/redis/nodes.conf'\nif [ -f \"$conf\" ]; then");
      expect(n.command[2]).toContain(`  sleep ${seconds}\nfi\n`);
      expect(n.command[2]).toMatch(/exec redis-server '[^']+' "\$@"$/);
    }
  });

  it("mounts an nginx config whose upstream is the running slots' file, deployed with the first api.replicas", () => {
    const conf = upload(named(d(), "nginx"), "/etc/nginx/floodgate/nginx.conf");
    const upstream = /upstream api \{([^}]*)\}/.exec(conf)?.[1] ?? "";
    expect(upstream.trim().split("\n")[0]).toBe("include /etc/nginx/floodgate/api-upstream.conf;");
    const file = upload(named(d(), "nginx"), "/etc/nginx/floodgate/api-upstream.conf");
    const servers = [...file.matchAll(/server (\S+) /g)].map((m) => m[1]);
    const running = containers(d()).filter((c) => /^api-\d+$/.test(c.name) && c.start !== false);
    expect(running).toHaveLength(t().api.replicas);
    expect(servers).toEqual(running.map((c) => `${c.networksAdvanced[0].ipv4Address}:${t().api.basePort}`));
  });

  it("tells the autoscaler every slot's address and where nginx's upstream file is", () => {
    const e = env(named(d(), "autoscaler"));
    const slots = containers(d()).filter((c) => /^api-\d+$/.test(c.name));
    expect(present(e.AUTOSCALE_API_CONTAINERS, "AUTOSCALE_API_CONTAINERS").split(",")).toEqual(
      slots.map((c) => c.name),
    );
    expect(present(e.AUTOSCALE_API_ADDRESSES, "AUTOSCALE_API_ADDRESSES").split(",")).toEqual(
      slots.map((c) => `${c.networksAdvanced[0].ipv4Address}:${t().api.basePort}`),
    );
    expect([e.AUTOSCALE_NGINX_CONTAINER, e.AUTOSCALE_NGINX_UPSTREAM_FILE]).toEqual([
      "nginx",
      "/etc/nginx/floodgate/api-upstream.conf",
    ]);
    // The service's own parser accepts what the program sets.
    expect(parseAutoscalerEnv(e).AUTOSCALE_API_ADDRESSES).toHaveLength(slots.length);
  });

  it("takes the autoscaler's min, max and cooldown from the config", () => {
    const e = env(named(d(), "autoscaler"));
    const s = t().autoscaling;
    expect([e.AUTOSCALE_MIN_REPLICAS, e.AUTOSCALE_MAX_REPLICAS, e.AUTOSCALE_COOLDOWN_SECONDS]).toEqual(
      [s.minReplicas, s.maxReplicas, s.cooldownSeconds].map(String),
    );
    expect(present(e.AUTOSCALE_API_CONTAINERS, "AUTOSCALE_API_CONTAINERS").split(",").length).toBe(
      s.maxReplicas >= t().api.replicas ? s.maxReplicas : t().api.replicas,
    );
  });

  it("schedules backups from a replica into the backups bucket over S3, with retention", () => {
    const backups = named(d(), "backups");
    const e = env(backups);
    const b = t().backups;
    expect([e.BACKUP_SCHEDULE, e.BACKUP_RETENTION_DAYS, e.BACKUP_KEEP_LAST]).toEqual([
      b.schedule,
      String(b.retentionDays),
      String(b.keepLast),
    ]);
    expect(e.BACKUP_MYSQL_SOURCE).toMatch(/^mysql-replica-\d+:/);
    // The service reads this environment as a bucket store (not a directory), with the real keys.
    expect(e.BACKUP_DIR).toBeUndefined();
    const bucket = `${t().name}-backups`;
    expect(parseBackupEnv(e).store).toEqual({
      type: "s3",
      endpoint: `http://${NAMES.bucket}:${BUCKET_PORTS.s3}`,
      bucket,
      region: "us-east-1",
      accessKeyId: testSecretValue("bucketAccessKey"),
      secretAccessKey: testSecretValue("bucketSecretKey"),
    });
    expect(parseBucketInitEnv(env(named(d(), "bucket-init"))).S3_BUCKETS).toContain(bucket);
    // Only scratch space in the container, in the folder the image gives its non-root user.
    expect(backups.volumes ?? []).toEqual([]);
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, "images", "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(new RegExp(`chown node:node [^\\n]*${e.BACKUP_WORK_DIR}\\b`));
    // The restore drill after each backup needs a MariaDB server (mariadbd, mariadb-install-db) in the image.
    expect(parseBackupEnv(e).BACKUP_RESTORE_DRILL).toBe("after-each-backup");
    expect(dockerfile).toContain(`"mariadb-server-core${"${MARIADB_SERVER_CORE_VERSION"}`);
    // The keys arrive inside a Pulumi secret.
    const raw = d().resources.find((r) => r.type === CONTAINER && r.inputs.name === "backups")!.rawInputs;
    expect(isSecretValue(raw.envs)).toBe(true);
  });

  it("gives the runbooks container a stack file that parses as the Docker target, with the real secrets", () => {
    const file = parseStackFile(JSON.parse(upload(named(d(), NAMES.runbooks), STACK_FILE_PATH)));
    expect(file.target).toBe("docker");
    expect(file.docker).toEqual({ socket: "/var/run/docker.sock", container: NAMES.runbooks });
    expect(file.mysqlAdmin).toEqual({ user: "root", password: testSecretValue("mysqlRootPassword") });
    expect(file.topology.mysql.users.backup.password).toBe(testSecretValue("mysqlBackupPassword"));
    expect(file.topology.rabbitmq.users.admin.password).toBe(testSecretValue("rabbitmqAdminPassword"));
    expect(file.addresses.api.length).toBe(Math.max(t().api.replicas, t().autoscaling.maxReplicas));
  });

  it("lists in the stack file every stack process the program runs, each by the name of its container", () => {
    const file = parseStackFile(JSON.parse(upload(named(d(), NAMES.runbooks), STACK_FILE_PATH)));
    const listed = file.processes.map((p) => p.name);
    const created = containers(d()).map((c) => c.name as string);
    expect(listed.filter((n) => !created.includes(n))).toEqual([]);
    const processLike =
      /^(mysql-primary|mysql-replica-\d+|redis-\d+|rabbitmq(-\d+)?|api-\d+|worker-[a-z-]+-\d+|mysqld-exporter-[a-z0-9-]+)$/;
    expect(created.filter((n) => processLike.test(n) && !listed.includes(n))).toEqual([]);
    for (const name of ["nginx", "tracker", "rabbitmq", "prometheus", "alertmanager", "autoscaler", "backups"])
      expect(listed).toContain(name);
    expect(
      listed.filter((n) => /^(migrate|bucket|static-|redis-cluster-form|runbooks$)/.test(n) || n.endsWith("-setup")),
    ).toEqual([]);
  });

  it("names each MariaDB server's data volume in the stack file, the one its container mounts", () => {
    const file = parseStackFile(JSON.parse(upload(named(d(), NAMES.runbooks), STACK_FILE_PATH)));
    const withVolume = file.processes.filter((p) => p.volume);
    expect(withVolume.map((p) => p.name)).toEqual([
      NAMES.mysqlPrimary,
      ...Array.from({ length: t().mysql.replicas }, (_, i) => `mysql-replica-${i + 1}`),
    ]);
    for (const p of withVolume) {
      const mounts = (named(d(), p.name).volumes ?? []) as Array<{ volumeName?: string; containerPath: string }>;
      expect([p.name, mounts.find((m) => m.containerPath === "/var/lib/mysql")?.volumeName]).toEqual([
        p.name,
        p.volume,
      ]);
    }
  });

  it("hands the runbooks exactly the backups container's environment", () => {
    const file = parseStackFile(JSON.parse(upload(named(d(), NAMES.runbooks), STACK_FILE_PATH)));
    expect(file.backupEnv).toEqual(env(named(d(), NAMES.backups)));
  });

  it("uploads the stack file as a Pulumi secret", () => {
    const raw = d().resources.find((r) => r.type === CONTAINER && r.inputs.name === NAMES.runbooks)!.rawInputs;
    const stackFile = (raw.uploads as Obj[]).find((u) => u.file === STACK_FILE_PATH);
    expect(isSecretValue(stackFile?.content)).toBe(true);
  });

  it("runs the runbooks container from the app image, idle, as root with the Docker socket mounted", () => {
    const c = named(d(), NAMES.runbooks);
    expect(c.volumes).toEqual([{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }]);
    expect(c.user).toBe("root");
    expect(c.image).toBe(named(d(), NAMES.backups).image);
    expect(c.command).toEqual(["node", "-e", "setInterval(() => {}, 1 << 30)"]);
    expect(c.networksAdvanced[0].aliases).toEqual([NAMES.runbooks]);
  });

  it("serves /static/ from a mirror of the bucket the catalog publisher uploads to", () => {
    const mount = (name: string) =>
      (named(d(), name).volumes as Obj[]).map((v) => [v.volumeName, v.containerPath, !!v.readOnly]);
    expect(mount("api-1")).toEqual([["static-publish", "/var/lib/floodgate/static", false]]);
    expect(mount("static-publisher")).toEqual([["static-publish", "/var/lib/floodgate/static", true]]);
    expect(mount("static-edge-sync")).toEqual([["static-edge", "/srv/static", false]]);
    expect(mount("nginx")).toEqual([["static-edge", "/srv/static", true]]);
    const bucket = `${t().name}-static`;
    const publisher = parsePublisherEnv(env(named(d(), "static-publisher")));
    const edge = parseEdgeSyncEnv(env(named(d(), "static-edge-sync")));
    expect([publisher.S3_BUCKET, publisher.STATIC_PUBLISH_DIR]).toEqual([bucket, "/var/lib/floodgate/static"]);
    expect([edge.S3_BUCKET, edge.STATIC_EDGE_DIR]).toEqual([bucket, "/srv/static"]);
  });

  it("runs bucket-init and the static sidecars from the services image, over S3 with the real keys as secrets", () => {
    const endpoint = `http://${NAMES.bucket}:${BUCKET_PORTS.s3}`;
    const keys = [testSecretValue("bucketAccessKey"), testSecretValue("bucketSecretKey")];
    for (const name of ["bucket-init", "static-publisher", "static-edge-sync"]) {
      const c = named(d(), name);
      expect([name, c.image, c.command]).toEqual([name, named(d(), "api-1").image, appEntry(name)]);
      const e = env(c);
      expect([name, e.S3_ENDPOINT, e.S3_ACCESS_KEY, e.S3_SECRET_KEY]).toEqual([name, endpoint, ...keys]);
      const raw = d().resources.find((r) => r.type === CONTAINER && r.inputs.name === name)!.rawInputs;
      expect([name, isSecretValue(raw.envs)]).toEqual([name, true]);
    }
    // The mirror writes into a volume Docker creates root-owned; the publisher only reads.
    expect([named(d(), "static-edge-sync").user, named(d(), "static-publisher").user]).toEqual(["root", undefined]);
  });

  it("gives SeaweedFS its S3 identity as a secret file: the real keys, admin on its own two buckets only", () => {
    const store = named(d(), NAMES.bucket);
    expect(store.command).toContain("-s3.config=/etc/seaweedfs/s3.json");
    const { identities } = JSON.parse(upload(store, "/etc/seaweedfs/s3.json"));
    expect(identities).toEqual([
      {
        name: "floodgate",
        credentials: [{ accessKey: testSecretValue("bucketAccessKey"), secretKey: testSecretValue("bucketSecretKey") }],
        actions: ["Read", "List", "Write", "Tagging", `Admin:${t().name}-static`, `Admin:${t().name}-backups`],
      },
    ]);
    const raw = d().resources.find((r) => r.type === CONTAINER && r.inputs.name === NAMES.bucket)!.rawInputs;
    expect(isSecretValue(first(raw.uploads as Obj[], "the object store's upload").content)).toBe(true);
  });

  it("mounts every monitoring/ rule file into Prometheus and lists each in prometheus.yml", () => {
    const prom = named(d(), "prometheus");
    const dir = path.join(REPO_ROOT, "monitoring", "rules");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yml"));
    expect(files.length).toBeGreaterThan(0);
    const yml = parse(upload(prom, "/etc/prometheus/prometheus.yml")) as { rule_files: string[] };
    expect(yml.rule_files.sort()).toEqual(files.map((f) => `/etc/prometheus/rules/${f}`).sort());
    for (const f of files)
      expect(upload(prom, `/etc/prometheus/rules/${f}`)).toBe(fs.readFileSync(path.join(dir, f), "utf8"));
  });

  it("keeps every secret a Pulumi secret: no resource input holds one in plain text", () => {
    const needles = testSecretValues();
    const leaks = d().resources.flatMap((r) => plainOccurrences(r.rawInputs, needles).map((p) => `${r.name}: ${p}`));
    expect(leaks).toEqual([]);
    // And they do arrive, as secrets, where they are used; outside the runbooks' stack file (the
    // whole secret topology, checked above) the RabbitMQ admin's only as its salted hash, inside
    // the users job's users.json, which must then be a secret too; the broker's own definitions
    // hold no user (the job imports them, so a rotation replaces no broker).
    const all = JSON.stringify(
      d()
        .resources.filter((r) => r.inputs.name !== NAMES.runbooks)
        .map((r) => r.rawInputs),
    );
    const arrived = needles.filter((n) => all.includes(n));
    // monitoringPassword guards the admin UIs on Kubernetes alone (its admin gateway): one host
    // publishes them on adminBindHost, loopback unless the stack says otherwise.
    expect(needles.filter((n) => !arrived.includes(n))).toEqual([
      testSecretValue("rabbitmqAdminPassword"),
      testSecretValue("monitoringPassword"),
    ]);
    const uploadOf = (container: string, file: string) =>
      (
        (d().resources.find((r) => r.type === CONTAINER && r.inputs.name === container)?.rawInputs.uploads ??
          []) as Obj[]
      ).find((u) => u.file === file);
    expect(isSecretValue(uploadOf("rabbitmq-users", RABBITMQ_USERS_FILE)?.content)).toBe(true);
    const definitions = uploadOf("rabbitmq", "/etc/rabbitmq/definitions.json")?.content;
    expect(isSecretValue(definitions)).toBe(false);
    expect(JSON.parse(String(definitions))).not.toHaveProperty("users");
  });
});

describe("the program as `pulumi up` runs it", () => {
  it("puts no secret in a plain output: every component's registered outputs and the stack's", async () => {
    const needles = testSecretValues();
    expect(componentOutputs.length).toBeGreaterThan(8);
    const leaks = componentOutputs.flatMap((c) => plainOccurrences(c.outputs, needles).map((p) => `${c.urn}: ${p}`));
    expect(leaks).toEqual([]);
    const program = require("../../index") as Record<string, Parameters<typeof settle>[0]>;
    const exported = await Promise.all(
      ["apiUrl", "staticUrl", "prometheusUrl", "alertmanagerUrl"].map((k) => settle(program[k])),
    );
    expect(plainOccurrences(exported, needles)).toEqual([]);
  });

  it("exports the API, static, Prometheus and Alertmanager URLs from the stack config", async () => {
    const program = require("../../index") as Record<string, Parameters<typeof settle>[0]>;
    const cfg = deployed.stack.cfg;
    expect(await settle(program.apiUrl)).toBe(`http://${cfg.publicHost}/api/v1/`);
    expect(await settle(program.staticUrl)).toBe(`http://${cfg.publicHost}/static/`);
    expect(await settle(program.prometheusUrl)).toBe(`http://${cfg.adminBindHost}:${cfg.adminPort}/`);
    expect(await settle(program.alertmanagerUrl)).toBe(`http://${cfg.adminBindHost}:${Number(cfg.adminPort) + 1}/`);
  });
});
