import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { IMAGE_USERS } from "../../config";
import { buildDeployConfig, testSecretValue, testSecretValues } from "../../../test/support/deploy-config";
import { deployRecorded as deploy, SCALED, type Deployed } from "../../../test/support/kubernetes-program";
import {
  isSecretValue,
  plainOccurrences,
  recordResources,
  unwrapSecrets,
  type RecordedResource,
} from "../../../test/support/pulumi-mocks";
import { first, present } from "../../../test/support/checked";
import { readStackFile } from "../../../test/support/stack-config";
import { REDIS_HOSTNAME_ENV, REDIS_RESOLVE_WAIT_SECONDS, redisRestartDelayMs } from "../../render";
import { redisNodeCount, NAMES } from "../../topology";
import { migrationJobName } from "./app-pod";
import { BUCKET_PORTS, bucketNames, LIVENESS_ONLY_SIDECARS } from "./bucket-scripts";
import { hostNamespace, kubernetesAddresses, serviceHost } from "./addresses";
import { appCommand } from "./app-env";
import { PATHS } from "./context";
import { MARIADB_PATHS } from "./mounted-files";
import { kubernetesStackFile, RUNBOOK_STACK_SECRET, RUNBOOKS } from "./runbooks";
import { parseStackFile, STACK_FILE_PATH } from "../stack-file";
import { parseBackupEnv } from "../../../services/src/backup/config";

const deployed: Record<"base" | "scaled" | "Pulumi.k8s.yaml", Deployed> = {} as never;

beforeAll(async () => {
  await recordResources("kubernetes");
  deployed.base = await deploy({});
  deployed.scaled = await deploy(SCALED);
  deployed["Pulumi.k8s.yaml"] = await deploy(readStackFile("k8s"));
});

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const plain = (r: RecordedResource) => unwrapSecrets(r.inputs) as Obj;
const ofKind = (d: Deployed, kind: string) => d.resources.filter((r) => r.type.endsWith(`:${kind}`)).map(plain);
const named = (d: Deployed, kind: string, name: string) => {
  const found = ofKind(d, kind).find((r) => r.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} named ${name}`);
  return found;
};
const podTemplate = (r: Obj): Obj => (r.spec.jobTemplate ? r.spec.jobTemplate.spec.template : r.spec.template);
const LONG_RUNNING = ["Deployment", "StatefulSet", "DaemonSet"];
const WORKLOADS = [...LONG_RUNNING, "Job", "CronJob"];
const CASES = ["base", "scaled", "Pulumi.k8s.yaml"] as const;

describe.each(CASES)("the Kubernetes program (%s config)", (which) => {
  const d = () => deployed[which];
  const t = () => d().cfg.topology;

  it("gives every container of every pod template resource requests and limits", () => {
    const containers = WORKLOADS.flatMap((k) => ofKind(d(), k)).flatMap((r) => podTemplate(r).spec.containers as Obj[]);
    expect(containers.length).toBeGreaterThan(10);
    for (const c of containers) {
      expect({ name: c.name, requests: Object.keys(c.resources?.requests ?? {}).sort() }).toEqual({
        name: c.name,
        requests: ["cpu", "memory"],
      });
      expect({ name: c.name, limits: Object.keys(c.resources?.limits ?? {}).sort() }).toEqual({
        name: c.name,
        limits: ["cpu", "memory"],
      });
    }
  });

  it("gives every long-running container readiness and liveness probes (the sync sidecars liveness only)", () => {
    const containers = LONG_RUNNING.flatMap((k) => ofKind(d(), k)).flatMap(
      (r) => podTemplate(r).spec.containers as Obj[],
    );
    const livenessOnly = (c: Obj) => (LIVENESS_ONLY_SIDECARS as readonly string[]).includes(c.name);
    expect(containers.filter(livenessOnly).length).toBeGreaterThanOrEqual(2);
    for (const c of containers) {
      expect({ name: c.name, readiness: !!c.readinessProbe, liveness: !!c.livenessProbe }).toEqual({
        name: c.name,
        readiness: !livenessOnly(c),
        liveness: true,
      });
    }
  });

  it("probes without an HTTP client in the container: the kubelet's own HTTP and TCP checks, or the server's own tools", () => {
    const containers = WORKLOADS.flatMap((k) => ofKind(d(), k)).flatMap((r) => podTemplate(r).spec.containers as Obj[]);
    const commands = containers.flatMap((c) =>
      [c.readinessProbe, c.livenessProbe, c.startupProbe, c.lifecycle?.preStop]
        .filter((p) => p?.exec)
        .map((p) => ({ name: c.name, command: (p.exec.command as string[]).join(" ") })),
    );
    expect(commands.length).toBeGreaterThan(3);
    for (const { name, command } of commands) {
      expect({ name, command, client: /\b(wget|curl|healthcheck\.sh)\b/.test(command) }).toEqual({
        name,
        command,
        client: false,
      });
    }
  });

  it("runs every container of a Debian-built image as that image's user, by IMAGE_USERS' ids, never as root", () => {
    const images = d().cfg.images;
    const keyOf = new Map(
      Object.keys(IMAGE_USERS).map((k) => [images[k as keyof typeof IMAGE_USERS], k as keyof typeof IMAGE_USERS]),
    );
    const pods = WORKLOADS.flatMap((k) => ofKind(d(), k)).map((r) => podTemplate(r).spec as Obj);
    let checked = 0;
    for (const pod of pods) {
      for (const c of pod.containers as Obj[]) {
        const key = keyOf.get(c.image);
        if (c.image === images.objectStore) continue; // SeaweedFS's upstream image: its own user
        expect({ container: c.name, image: c.image, built: key !== undefined }).toEqual({
          container: c.name,
          image: c.image,
          built: true,
        });
        const user = IMAGE_USERS[key!];
        const effective = { ...pod.securityContext, ...c.securityContext };
        expect({
          container: c.name,
          runAsNonRoot: effective.runAsNonRoot,
          uid: effective.runAsUser,
          gid: effective.runAsGroup,
        }).toEqual({ container: c.name, runAsNonRoot: true, uid: user.uid, gid: user.gid });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("gives each store's volume to its server's group, mounted where its image keeps its data", () => {
    const expected = {
      "mysql-primary": ["mariadb", "/var/lib/mysql"],
      "redis-shard-0": ["redis", "/var/lib/redis"],
      rabbitmq: ["rabbitmq", "/var/lib/rabbitmq"],
      prometheus: ["prometheus", "/var/lib/prometheus/data"],
    } as const;
    for (const [set, [image, dataDir]] of Object.entries(expected)) {
      const pod = podTemplate(named(d(), "StatefulSet", set)).spec;
      expect([set, pod.securityContext.fsGroup]).toEqual([set, IMAGE_USERS[image].gid]);
      const mount = (pod.containers[0].volumeMounts as Obj[]).find((m) => m.name === "data");
      expect([set, mount?.mountPath]).toEqual([set, dataDir]);
    }
  });

  it("starts each server as its Debian-built image documents it (images/Dockerfile)", () => {
    const [mariadb] = podTemplate(named(d(), "StatefulSet", "mysql-primary")).spec.containers;
    expect(mariadb.command).toBeUndefined(); // the image's entry point initialises an empty datadir
    expect(mariadb.args).toEqual(["--defaults-file=/etc/mysql/floodgate/my.cnf"]);
    const nginxPod = podTemplate(named(d(), "Deployment", "nginx")).spec;
    const nginx = nginxPod.containers.find((c: Obj) => c.name === "nginx");
    expect(nginx.command).toEqual(["nginx", "-e", "/dev/stderr", "-c", "/etc/nginx/floodgate/nginx.conf"]);
    expect(nginx.lifecycle.preStop.exec.command[2]).toContain("-c /etc/nginx/floodgate/nginx.conf -s quit");
    const exporter = nginxPod.containers.find((c: Obj) => c.name === "exporter");
    // Debian's nginx and Redis exporters take Go flags: one dash, as the local stack passes them.
    expect(exporter.args.every((f: string) => /^-[a-z]/.test(f))).toBe(true);
    const redisExporter = podTemplate(named(d(), "Deployment", "redis-exporter")).spec.containers[0];
    expect(redisExporter.args.every((f: string) => /^-[a-z]/.test(f))).toBe(true);
    const [rabbit] = podTemplate(named(d(), "StatefulSet", "rabbitmq")).spec.containers;
    const mounts = Object.fromEntries((rabbit.volumeMounts as Obj[]).map((m) => [m.mountPath, m.subPath ?? ""]));
    expect(mounts["/etc/rabbitmq/rabbitmq.conf"]).toBe("rabbitmq.conf");
    expect(mounts["/etc/rabbitmq/enabled_plugins"]).toBe("enabled_plugins");
    const env = Object.fromEntries((rabbit.env as Obj[]).map((e) => [e.name, e.value]));
    expect([env.RABBITMQ_DIST_PORT, env.ERL_EPMD_PORT]).toEqual([
      String(t().rabbitmq.distPort),
      String(t().rabbitmq.epmdPort),
    ]);
    const [alertmanager] = podTemplate(named(d(), "Deployment", "alertmanager")).spec.containers;
    expect(alertmanager.args).toContain("--storage.path=/var/lib/prometheus/alertmanager");
  });

  it("publishes no port of MySQL, Redis, RabbitMQ or the bucket outside the cluster", () => {
    const services = ofKind(d(), "Service");
    const stores = services.filter((s) =>
      /^(mysql-(primary|replica-\d+)|redis|rabbitmq|bucket)$/.test(s.metadata.name),
    );
    expect(stores.length).toBe(1 + t().mysql.replicas + 1 + 1 + 1);
    for (const s of stores) {
      expect({ name: s.metadata.name, type: s.spec.type ?? "ClusterIP" }).toEqual({
        name: s.metadata.name,
        type: "ClusterIP",
      });
      expect(s.spec.externalIPs).toBeUndefined();
      expect((s.spec.ports as Obj[]).filter((p) => p.nodePort !== undefined)).toEqual([]);
    }
    const exposed = services.filter((s) => s.spec.type === "LoadBalancer" || s.spec.type === "NodePort");
    const expected = d().cfg.adminPort === undefined ? ["nginx"] : ["admin-gateway", "nginx"];
    expect(exposed.map((s) => s.metadata.name).sort()).toEqual(expected);
    // The admin UIs only behind the authenticating gateway, and only to the stack's source ranges.
    for (const s of exposed.filter((x) => x.metadata.name === "admin-gateway")) {
      expect(s.spec.loadBalancerSourceRanges).toEqual(d().cfg.adminSourceRanges);
      expect(s.spec.loadBalancerSourceRanges.length).toBeGreaterThan(0);
    }
    const ui = services.filter((s) => ["prometheus", "alertmanager"].includes(s.metadata.name));
    expect(ui.map((s) => s.spec.type ?? "ClusterIP")).toEqual(["ClusterIP", "ClusterIP"]);
  });

  it("lets only labelled clients through the stores' NetworkPolicies", () => {
    const policies = ofKind(d(), "NetworkPolicy");
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(["bucket", "mysql", "rabbitmq", "redis"]);
    const api = podTemplate(named(d(), "StatefulSet", "api")).metadata.labels;
    for (const p of policies) {
      const sources = (p.spec.ingress as Obj[]).flatMap((rule) => rule.from as Obj[]);
      expect(sources.every((s) => s.podSelector && !s.namespaceSelector && !s.ipBlock)).toBe(true);
      const selector = first(sources, `a source of the ${p.metadata.name} policy`).podSelector;
      const clientLabel = first(Object.keys(selector.matchLabels), "a client label");
      expect(api[clientLabel]).toBe("true");
    }
    const nodeExporter = podTemplate(named(d(), "DaemonSet", "node-exporter")).metadata.labels;
    expect(Object.keys(nodeExporter).filter((l) => l.endsWith("-client"))).toEqual([]);
  });

  it("runs as many API replicas, Redis nodes, MariaDB replicas and workers as the topology says", () => {
    expect(named(d(), "StatefulSet", "api").spec.replicas).toBe(t().api.replicas);
    const shards = ofKind(d(), "StatefulSet").filter((s) => s.metadata.name.startsWith("redis-shard-"));
    expect(shards.map((s) => s.spec.replicas)).toEqual(
      Array.from({ length: t().redis.masters }, () => 1 + t().redis.replicasPerMaster),
    );
    const replicas = ofKind(d(), "StatefulSet").filter((s) => s.metadata.name.startsWith("mysql-replica-"));
    expect(replicas).toHaveLength(t().mysql.replicas);
    expect(named(d(), "StatefulSet", "worker-orders").spec.replicas).toBe(t().workers.orders.processes);
    expect(named(d(), "StatefulSet", "worker-red-packet-grabs").spec.replicas).toBe(
      t().workers.redPacketGrabs.processes,
    );
    const concurrency = podTemplate(named(d(), "StatefulSet", "worker-orders")).spec.containers[0].env.find(
      (e: Obj) => e.name === "WORKER_CONCURRENCY",
    );
    expect(concurrency.value).toBe(String(t().workers.orders.concurrency));
    const form = podTemplate(named(d(), "Job", "redis-cluster-form")).spec.containers[0].command[2] as string;
    // The masters are each shard's pod 0; every other pod joins its own shard's master.
    expect(form).toContain("--cluster-replicas 0");
    const added = [...form.matchAll(/--cluster add-node (redis-shard-(\d+)-\d+)\.\S+ (redis-shard-(\d+)-0)\./g)];
    expect(added).toHaveLength(t().redis.masters * t().redis.replicasPerMaster);
    for (const [, , replicaShard, , masterShard] of added) expect(replicaShard).toBe(masterShard);
  });

  it("runs only entry points the services image compiles (services/src/main/<entry>.ts)", () => {
    const templates = d()
      .resources.map(plain)
      .filter((r: Obj) => r.spec?.template || r.spec?.jobTemplate);
    const entries = templates
      .flatMap((r: Obj) => podTemplate(r).spec.containers as Obj[])
      .map((c) => (c.command as string[] | undefined)?.[1] ?? "")
      .filter((arg) => arg.startsWith("dist/services/src/main/"));
    expect(entries.length).toBeGreaterThan(0);
    const root = path.resolve(__dirname, "..", "..", "..");
    for (const entry of new Set(entries)) {
      const source = entry.replace(/^dist\//, "").replace(/\.js$/, ".ts");
      expect({ entry, exists: fs.existsSync(path.join(root, source)) }).toEqual({ entry, exists: true });
    }
  });

  it("makes a restarted Redis pod find its peers by name and sit out its replica's failover, and does not kill it for waiting", () => {
    const seconds = Math.ceil(redisRestartDelayMs(t()) / 1000);
    const [redis] = podTemplate(named(d(), "StatefulSet", "redis-shard-0")).spec.containers;
    expect(redis.command.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(redis.command[2]).toContain(`  sleep ${seconds}\n`);
    expect(redis.command[2]).toMatch(/getent ahostsv4/);
    expect(redis.command[2]).toMatch(/exec redis-server '\/etc\/redis\/floodgate\/redis.conf' "\$@"$/);
    // The name it announces: its own pod's, through the headless Service its addresses use.
    const env = Object.fromEntries((redis.env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env.POD_NAME).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
    expect(env[REDIS_HOSTNAME_ENV]).toBe(`$(POD_NAME).redis.${d().cfg.kubernetes.namespace}.svc.cluster.local`);
    expect(redis.livenessProbe.initialDelaySeconds).toBeGreaterThan(seconds + REDIS_RESOLVE_WAIT_SECONDS);
  });

  it("mounts an nginx config whose upstream lists a Service for every API replica the autoscaler may run", () => {
    const conf = named(d(), "ConfigMap", "nginx-conf").data["nginx.conf"] as string;
    const [, block] = /upstream api \{([^}]*)\}/.exec(conf) ?? [];
    const upstream = present(block, "nginx.conf's upstream api block");
    const servers = [...upstream.matchAll(/server ([^:\s]+):(\d+)/g)].map((m) => m[1]);
    const slots = Math.max(t().api.replicas, t().autoscaling.maxReplicas);
    expect(servers).toHaveLength(slots);
    const ns = d().cfg.kubernetes.namespace;
    servers.forEach((host, i) => {
      expect(host).toBe(`api-${i}.${ns}.svc.cluster.local`);
      const svc = named(d(), "Service", `api-${i}`);
      expect(svc.spec.selector).toEqual({ "statefulset.kubernetes.io/pod-name": `api-${i}` });
    });
    const volumes = podTemplate(named(d(), "Deployment", "nginx")).spec.volumes as Obj[];
    expect(volumes.find((v) => v.name === "conf")!.configMap.name).toBe("nginx-conf");
  });

  it("takes the autoscaler's bounds, CPU target and cooldown from the topology", () => {
    const scaled = named(d(), "ScaledObject", "api").spec;
    const s = t().autoscaling;
    expect([scaled.minReplicaCount, scaled.maxReplicaCount]).toEqual([s.minReplicas, s.maxReplicas]);
    const behavior = scaled.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(behavior.scaleDown.stabilizationWindowSeconds).toBe(s.cooldownSeconds);
    expect(scaled.triggers.find((x: Obj) => x.type === "cpu").metadata.value).toBe(String(s.scaleOutCpuPercent));
    expect(scaled.triggers.find((x: Obj) => x.type === "prometheus").metadata.threshold).toBe(String(s.scaleOutP99Ms));
    expect(scaled.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "StatefulSet", name: "api" });
  });

  it("writes no secret in plain text into any resource, and keeps secrets only inside Secret resources", () => {
    const values = testSecretValues();
    // Derived forms too: the Redis ACL hashes must not leak into a ConfigMap either.
    const hashes = values.map((v) => createHash("sha256").update(v, "utf8").digest("hex"));
    for (const r of d().resources) {
      expect({ resource: `${r.type} ${r.name}`, at: plainOccurrences(r.rawInputs, [...values, ...hashes]) }).toEqual({
        resource: `${r.type} ${r.name}`,
        at: [],
      });
      const hasSecret = JSON.stringify(r.rawInputs).includes('"4dabf18193072939515e22adb298388d"');
      if (!r.type.endsWith(":Secret"))
        expect({ resource: r.name, hasSecret }).toEqual({ resource: r.name, hasSecret: false });
    }
    const secrets = d().resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
    expect(secrets.every((s) => isSecretValue(s.rawInputs.stringData))).toBe(true);
    const inSecrets = JSON.stringify(secrets.map(plain));
    const needed = ["jwtSecret", "mysqlAppPassword", "mysqlRootPassword", "redisAdminPassword", "rabbitmqErlangCookie"];
    for (const name of needed) expect(inSecrets).toContain(`TEST-SECRET-${name}-`);
  });

  it("renders no secret placeholder anywhere: every secret-bearing value comes from the real secrets", () => {
    for (const r of d().resources) {
      expect({
        resource: r.name,
        at: plainOccurrences(unwrapSecrets(r.rawInputs), ["floodgate-placeholder-"]),
      }).toEqual({
        resource: r.name,
        at: [],
      });
    }
  });

  it("migrates once per app version before the API, with a Job named after the image", () => {
    const jobs = ofKind(d(), "Job").filter((j) => j.metadata.name.startsWith("migrate-"));
    expect(jobs.map((j) => j.metadata.name)).toEqual([migrationJobName(d().cfg.images.app)]);
    const migrate = podTemplate(first(jobs, "the migration Job")).spec.containers[0];
    expect(migrate.image).toBe(d().cfg.images.app);
    expect(migrate.env.find((e: Obj) => e.name === "MYSQL_USER").value).toBe(t().mysql.users.migrator.name);
    expect(podTemplate(named(d(), "StatefulSet", "api")).spec.containers[0].image).toBe(d().cfg.images.app);
  });

  it("mounts every rule file under monitoring/rules into Prometheus and loads each from its config", () => {
    const files = fs
      .readdirSync(path.join(__dirname, "..", "..", "..", "monitoring", "rules"))
      .filter((f) => f.endsWith(".yml"));
    const rules = named(d(), "ConfigMap", "prometheus-rules").data as Record<string, string>;
    expect(Object.keys(rules).sort()).toEqual(files.sort());
    const promYml = parse(named(d(), "ConfigMap", "prometheus-conf").data["prometheus.yml"]);
    const mount = (podTemplate(named(d(), "StatefulSet", "prometheus")).spec.containers[0].volumeMounts as Obj[]).find(
      (m) => m.name === "rules",
    )!.mountPath;
    expect(promYml.rule_files).toEqual(files.sort().map((f) => `${mount}/${f}`));
    for (const f of files)
      expect(rules[f]).toBe(fs.readFileSync(path.join(__dirname, "..", "..", "..", "monitoring", "rules", f), "utf8"));
  });

  it("probes API pods for readiness on /api/v1/health and for liveness on /api/v1/health/live", () => {
    const api = podTemplate(named(d(), "StatefulSet", "api")).spec.containers.find((c: Obj) => c.name === "api");
    expect(api.readinessProbe.httpGet).toEqual({ path: "/api/v1/health", port: t().api.basePort });
    expect(api.livenessProbe.httpGet).toEqual({ path: "/api/v1/health/live", port: t().api.basePort });
  });

  it("runs the backup service (one scheduler, drills after each backup) on the topology's schedule and retention, scraped by Prometheus", () => {
    expect(ofKind(d(), "CronJob")).toEqual([]);
    const service = named(d(), "Deployment", "backups");
    expect(service.spec.replicas).toBe(1);
    expect(service.spec.strategy).toEqual({ type: "Recreate" }); // never two schedulers
    const c = podTemplate(service).spec.containers[0];
    expect(c.command).toEqual(appCommand("backup"));
    const env = Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e.value]));
    expect(env.BACKUP_SCHEDULE).toBe(t().backups.schedule);
    expect(env.BACKUP_RETENTION_DAYS).toBe(String(t().backups.retentionDays));
    expect(env.BACKUP_KEEP_LAST).toBe(String(t().backups.keepLast));
    expect(env.BACKUP_MYSQL_SOURCE).toContain(`mysql-replica-${t().mysql.replicas}.`);
    expect(env.BACKUP_RESTORE_DRILL).toBe("after-each-backup");
    expect(c.readinessProbe.httpGet).toMatchObject({ path: "/health", port: t().backups.port });
    // Prometheus scrapes it through its Service (BackupTooOld, RestoreDrillFailed).
    const svc = named(d(), "Service", "backups");
    expect(svc.spec.ports).toEqual([{ name: "http", port: t().backups.port, targetPort: t().backups.port }]);
    const scrape = parse(named(d(), "ConfigMap", "prometheus-conf").data["prometheus.yml"]) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = scrape.scrape_configs.find((j) => j.job_name === "backups")!;
    expect(first(job.static_configs, "the backups job's static config").targets).toEqual([
      `${serviceHost("backups", { namespace: d().cfg.kubernetes.namespace })}:${t().backups.port}`,
    ]);
  });

  it("backs up into the backups bucket over S3, the keys referenced from a Secret, and keeps no directory", () => {
    const secret = d().resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "backups-secrets")!;
    expect(isSecretValue(secret.rawInputs.stringData)).toBe(true);
    const stringData = plain(secret).stringData as Record<string, string>;
    const bucket = bucketNames(t().name).backups;
    for (const c of [named(d(), "Deployment", "backups")]) {
      const pod = podTemplate(c).spec;
      const vars = pod.containers[0].env as Obj[];
      for (const [name, key] of [
        ["S3_ACCESS_KEY", "bucketAccessKey"],
        ["S3_SECRET_KEY", "bucketSecretKey"],
      ])
        expect(vars.find((v) => v.name === name)).toEqual({
          name,
          valueFrom: { secretKeyRef: { name: plain(secret).metadata.name, key } },
        });
      // Resolved as the kubelet would, the environment is a bucket store (not a directory) with the real keys.
      const env = Object.fromEntries(
        vars.map((v) => [v.name, v.valueFrom ? stringData[v.valueFrom.secretKeyRef.key] : v.value]),
      );
      expect(env.BACKUP_DIR).toBeUndefined();
      expect(parseBackupEnv(env).store).toEqual({
        type: "s3",
        endpoint: `http://${serviceHost(NAMES.bucket, { namespace: d().cfg.kubernetes.namespace })}:${BUCKET_PORTS.s3}`,
        bucket,
        region: "us-east-1",
        accessKeyId: testSecretValue("bucketAccessKey"),
        secretAccessKey: testSecretValue("bucketSecretKey"),
      });
      // Scratch space only (its work folder and the read-only root's /tmp), gone with the pod.
      expect(pod.volumes).toEqual([
        { name: "work", emptyDir: {} },
        { name: "scratch-tmp", emptyDir: {} },
      ]);
      expect(pod.containers[0].volumeMounts).toEqual([
        { name: "work", mountPath: env.BACKUP_WORK_DIR },
        { name: "scratch-tmp", mountPath: "/tmp" },
      ]);
    }
    const init = podTemplate(named(d(), "Job", "bucket-init")).spec.containers[0];
    expect(init.command[2]).toBe(`exec ${appCommand("bucket-init").join(" ")}`);
    expect(init.env.find((e: Obj) => e.name === "S3_BUCKETS").value.split(",")).toContain(bucket);
  });

  it("creates everything in the configured namespace, but the node exporter in its own beside it", () => {
    const ns = d().cfg.kubernetes.namespace;
    const namespaced = d().resources.filter(
      (r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.endsWith(":Namespace"),
    );
    expect(namespaced.length).toBeGreaterThan(30);
    const elsewhere = namespaced.filter((r) => plain(r).metadata?.namespace !== ns);
    expect(
      elsewhere.map((r) => [r.type.split(":").pop(), plain(r).metadata.name, plain(r).metadata.namespace]),
    ).toEqual([
      ["Service", "node-exporter", hostNamespace(ns)],
      ["DaemonSet", "node-exporter", hostNamespace(ns)],
    ]);
  });
});

describe.each(CASES)("the runbooks pod (%s config)", (which) => {
  const d = () => deployed[which];
  const t = () => d().cfg.topology;
  const stackSecret = () => named(d(), "Secret", RUNBOOK_STACK_SECRET.name);
  const stackFile = () =>
    parseStackFile(JSON.parse(stackSecret().stringData[RUNBOOK_STACK_SECRET.key]), "runbook-stack Secret");
  const runbooksPod = () => podTemplate(named(d(), "Deployment", RUNBOOKS));

  it("names each MariaDB server's data claim as its StatefulSet's claim template makes it", () => {
    const withVolume = stackFile().processes.filter((p) => p.volume);
    expect(withVolume.map((p) => p.name)).toEqual([
      "mysql-primary",
      ...Array.from({ length: t().mysql.replicas }, (_, i) => `mysql-replica-${i + 1}`),
    ]);
    for (const p of withVolume) {
      const set = named(d(), "StatefulSet", p.statefulSet!);
      const template = (set.spec.volumeClaimTemplates as Obj[]).find((c) =>
        (podTemplate(set).spec.containers[0].volumeMounts as Obj[]).some(
          (m) => m.name === c.metadata.name && m.mountPath === "/var/lib/mysql",
        ),
      )!;
      // Kubernetes names a StatefulSet pod's claim <template>-<statefulset>-<ordinal>.
      expect(p.volume).toBe(`${template.metadata.name}-${p.statefulSet}-${p.ordinal}`);
    }
  });

  it("writes a stack file that parses, for target k8s, with the real secrets and the deployed namespace", () => {
    const raw = d().resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "runbooks-stack")!;
    expect(isSecretValue(raw.rawInputs.stringData)).toBe(true);
    const file = stackFile();
    expect(file.target).toBe("k8s");
    expect(file.kubernetes).toEqual({
      namespace: d().cfg.kubernetes.namespace,
      image: d().cfg.images.app,
      // mysql-failover's one-shot pods: the mariadb image's user, and the datadir where the pods find it in the volume.
      mariadbData: {
        uid: IMAGE_USERS.mariadb.uid,
        gid: IMAGE_USERS.mariadb.gid,
        dir: path.posix.relative(PATHS.mariadbData, MARIADB_PATHS.datadir),
      },
    });
    expect(file.mysqlAdmin).toEqual({ user: "root", password: testSecretValue("mysqlRootPassword") });
    expect(file.topology.redis.users.admin.password).toBe(testSecretValue("redisAdminPassword"));
    expect(file.addresses.redis).toHaveLength(redisNodeCount(t()));
    // The backup environment is the CronJobs' one, resolved: a usable S3 store with the real keys.
    const backup = parseBackupEnv(file.backupEnv!);
    expect(backup.store).toMatchObject({
      type: "s3",
      bucket: bucketNames(t().name).backups,
      accessKeyId: testSecretValue("bucketAccessKey"),
      secretAccessKey: testSecretValue("bucketSecretKey"),
    });
    expect(file.backupEnv!.BACKUP_MYSQL_PASSWORD).toBe(testSecretValue("mysqlBackupPassword"));
  });

  it("names only pods the program runs: a StatefulSet it creates and an ordinal below its replicas (API: its slots)", () => {
    const sets = Object.fromEntries(ofKind(d(), "StatefulSet").map((s) => [s.metadata.name, s.spec.replicas]));
    const limit = (set: string) =>
      set === NAMES.api ? Math.max(t().api.replicas, t().autoscaling.maxReplicas) : sets[set];
    const processes = stackFile().processes;
    for (const p of processes) {
      expect({ name: p.name, known: p.statefulSet! in sets }).toEqual({ name: p.name, known: true });
      expect({ name: p.name, below: p.ordinal! < limit(p.statefulSet!) }).toEqual({ name: p.name, below: true });
    }
    // Every pod of every application StatefulSet is listed once, under its 1-based local-stack name.
    const listed = new Set(processes.map((p) => p.statefulSet!));
    expect([...listed].sort()).toEqual(
      Object.keys(sets)
        .filter((s) => /^(mysql-(primary|replica-\d+)|redis-shard-\d+|worker-.+|api)$/.test(s))
        .sort(),
    );
    for (const set of listed)
      expect(processes.filter((p) => p.statefulSet === set).map((p) => p.ordinal)).toEqual(
        Array.from({ length: set.startsWith("mysql-") ? 1 : limit(set) }, (_, i) => i),
      );
    expect(processes.find((p) => p.name === `redis-${redisNodeCount(t())}`)).toEqual({
      name: `redis-${redisNodeCount(t())}`,
      statefulSet: `redis-shard-${t().redis.masters - 1}`,
      ordinal: t().redis.replicasPerMaster,
    });
    expect(processes.find((p) => p.name === "worker-red-packet-grabs-1")).toMatchObject({
      statefulSet: "worker-red-packet-grabs",
      ordinal: 0,
    });
  });

  it("mounts the stack file at STACK_FILE_PATH, read-only, from the runbook-stack Secret", () => {
    const spec = runbooksPod().spec;
    const container = first(spec.containers as Obj[], "the runbooks container");
    const mount = (container.volumeMounts as Obj[]).find((m) => m.readOnly)!;
    const volume = (spec.volumes as Obj[]).find((v) => v.name === mount.name)!;
    expect(volume.secret.secretName).toBe(RUNBOOK_STACK_SECRET.name);
    const files = (volume.secret.items as Obj[]).map((i) => path.posix.join(mount.mountPath, i.path));
    expect(files).toEqual([STACK_FILE_PATH]);
    expect(volume.secret.items[0].key).toBe(RUNBOOK_STACK_SECRET.key);
    expect(stackSecret().stringData[volume.secret.items[0].key]).toBeDefined();
    expect(container.image).toBe(d().cfg.images.app);
  });

  it("runs as the runbooks service account, not as root, and carries every client label a NetworkPolicy asks for", () => {
    const pod = runbooksPod();
    expect(pod.spec.serviceAccountName).toBe(RUNBOOKS);
    expect(named(d(), "ServiceAccount", RUNBOOKS)).toBeDefined();
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    expect(pod.spec.securityContext.runAsUser).toBeGreaterThan(0);
    const required = ofKind(d(), "NetworkPolicy")
      .flatMap((p) => (p.spec.ingress as Obj[]).flatMap((rule) => rule.from as Obj[]))
      .map((s) => s.podSelector.matchLabels as Record<string, string>)
      .filter((labels) => Object.keys(labels).some((l) => l.endsWith("-client")));
    expect(required.length).toBeGreaterThanOrEqual(4);
    for (const labels of required) expect(pod.metadata.labels).toMatchObject(labels);
  });

  it("grants the runbooks service account exactly the pod, pod log, StatefulSet, scale and Service verbs it needs", () => {
    const role = named(d(), "Role", RUNBOOKS);
    const grants = (role.rules as Obj[]).flatMap((r) =>
      (r.resources as string[]).flatMap((res) =>
        (r.verbs as string[]).map((v) => `${(r.apiGroups as string[]).join(",")}/${res}:${v}`),
      ),
    );
    expect(grants.sort()).toEqual(
      [
        "/pods:get",
        "/pods:list",
        "/pods:watch",
        "/pods:create",
        "/pods:delete",
        "/pods/log:get",
        "apps/statefulsets:get",
        "apps/statefulsets:list",
        "apps/statefulsets/scale:get",
        "apps/statefulsets/scale:patch",
        "apps/statefulsets/scale:update",
        "/services:get",
        "/services:list",
      ].sort(),
    );
    const binding = named(d(), "RoleBinding", RUNBOOKS);
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: RUNBOOKS });
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: RUNBOOKS, namespace: d().cfg.kubernetes.namespace },
    ]);
  });
});

describe("kubernetesStackFile", () => {
  const t = buildDeployConfig("kubernetes", SCALED).topology;
  const file = kubernetesStackFile(t, kubernetesAddresses(t, { namespace: "fg" }), "fg", "root-pw", { A: "1" });

  it.each([
    ["mysql-primary", "mysql-primary", 0],
    ["mysql-replica-2", "mysql-replica-2", 0],
    ["redis-1", "redis-shard-0", 0],
    ["redis-4", "redis-shard-3", 0],
    ["redis-5", "redis-shard-0", 1],
    ["redis-12", "redis-shard-3", 2],
    ["worker-orders-5", "worker-orders", 4],
    ["worker-red-packet-grabs-1", "worker-red-packet-grabs", 0],
    ["api-1", "api", 0],
    ["api-9", "api", 8],
  ])("maps %s to pod ordinal of its StatefulSet", (name, statefulSet, ordinal) => {
    expect(file.processes.find((p) => p.name === name)).toMatchObject({ name, statefulSet, ordinal });
  });

  it("lists nothing beyond the topology's counts", () => {
    const names = file.processes.map((p) => p.name);
    for (const beyond of ["mysql-replica-3", "redis-13", "worker-orders-6", "worker-red-packet-grabs-2", "api-10"])
      expect(names).not.toContain(beyond);
    expect(parseStackFile(file).processes).toHaveLength(1 + 2 + 12 + 5 + 1 + 9);
  });
});
