import { parseTopology } from "../../topology";
import { autoscalerEnv } from "./autoscaler";
import { backupEnv } from "./backups";
import { dockerAddresses } from "./addresses";
import { containerSize, limits, type ContainerRole } from "./container-spec";
import { clusterFormScript } from "../../render";
import { MEMORY_ROLES } from "../../topology";
import { parseBucketInitEnv, parseEdgeSyncEnv, parsePublisherEnv } from "../../../services/src/static-sync/config";
import { bucketInitEnv, edgeSyncEnv, publisherEnv } from "./bucket-scripts";
import { present } from "../../../test/support/checked";

// Every role Docker runs (all but Kubernetes' sidecars).
const ROLES = MEMORY_ROLES.filter((r): r is ContainerRole => r !== "sidecar");
const toEnv = (list: string[]) =>
  Object.fromEntries(list.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

describe("container budgets", () => {
  it.each(ROLES)("gives %s a memory limit without swap and a CPU limit", (role) => {
    const l = limits(role, parseTopology({}));
    expect(l.memory).toBeGreaterThan(0);
    expect(l.memorySwap).toBe(l.memory);
    expect(Number(l.cpus)).toBeGreaterThan(0);
  });

  it.each([
    ["mysql", { mysql: { bufferPoolMb: 4096 } }, 5440],
    ["redis", { redis: { maxMemoryMb: 1000 } }, 2176],
    ["rabbitmq", { rabbitmq: { memoryLimitMb: 3000 } }, 3000],
  ] as const)("sizes %s from the topology's own memory setting", (role, input, memoryMb) => {
    expect(containerSize(role, parseTopology(input)).memoryMb).toBe(memoryMb);
  });

  it("gives work that may lag behind a burst a quarter of the CPU weight of what a client waits on", () => {
    const shares = (role: ContainerRole) => limits(role, parseTopology({})).cpuShares;
    expect([shares("worker"), shares("tracker"), shares("backups")]).toEqual([256, 256, 256]);
    expect([shares("api"), shares("nginx"), shares("redis"), shares("rabbitmq"), shares("mysql")]).toEqual([
      1024, 1024, 1024, 1024, 1024,
    ]);
  });
});

describe("the one-shot and service scripts", () => {
  it("forms the Redis cluster from the masters, adds each replica to its own master, each only when it knows only itself, then waits for ok", () => {
    const script = clusterFormScript(
      [
        { host: "10.0.20.1", port: 1 },
        { host: "10.0.20.2", port: 2 },
      ],
      1,
    );
    expect(script).toMatch(
      /^if .*-h 10\.0\.20\.1 -p 1 .*cluster_known_nodes:1.*; then .*--cluster create 10\.0\.20\.1:1 /m,
    );
    expect(script).toContain("--cluster create 10.0.20.1:1 --cluster-replicas 0 --cluster-yes");
    expect(script).toMatch(
      /^if .*-h 10\.0\.20\.2 -p 2 .*cluster_known_nodes:1.*; then .*--cluster add-node 10\.0\.20\.2:2 10\.0\.20\.1:1 --cluster-slave --cluster-master-id "\$id"/m,
    );
    expect(script.split("\n").at(-1)).toMatch(/until .*cluster_state:ok/);
    expect(script).not.toMatch(/--pass|-a /);
  });

  it("configures the static-bucket programs through their own parsers: the S3 API, the keys, the folders", () => {
    const access = { endpoint: "http://bucket:8333", accessKey: "the-access-key", secretKey: "the-secret-key" };
    const init = parseBucketInitEnv(toEnv(bucketInitEnv(access, ["fg-static", "fg-backups"])));
    const publisher = parsePublisherEnv(toEnv(publisherEnv(access, "fg-static")));
    const edge = parseEdgeSyncEnv(toEnv(edgeSyncEnv(access, "fg-static")));
    expect([init.S3_BUCKETS, init.BUCKET_INIT_WAIT_SECONDS]).toEqual([["fg-static", "fg-backups"], 180]);
    expect([publisher.S3_BUCKET, publisher.STATIC_PUBLISH_DIR]).toEqual(["fg-static", "/var/lib/floodgate/static"]);
    expect([edge.S3_BUCKET, edge.STATIC_EDGE_DIR]).toEqual(["fg-static", "/srv/static"]);
    for (const e of [init, publisher, edge])
      expect([e.S3_ENDPOINT, e.S3_ACCESS_KEY, e.S3_SECRET_KEY]).toEqual(Object.values(access));
  });
});

describe("autoscaler and backup environments", () => {
  it.each([
    [{}, ["2", "6", "60"]],
    [
      { api: { replicas: 3 }, autoscaling: { minReplicas: 3, maxReplicas: 10, cooldownSeconds: 600 } },
      ["3", "10", "600"],
    ],
  ])("takes min, max and cooldown from the topology (%j)", (input, expected) => {
    const t = parseTopology(input);
    const e = toEnv(autoscalerEnv(t, dockerAddresses(t), ["api-1"]));
    expect([e.AUTOSCALE_MIN_REPLICAS, e.AUTOSCALE_MAX_REPLICAS, e.AUTOSCALE_COOLDOWN_SECONDS]).toEqual(expected);
    expect(e.PROMETHEUS_URL).toBe(`http://prometheus:${t.monitoring.prometheusPort}`);
  });

  it.each([
    [1, "mysql-replica-1"],
    [3, "mysql-replica-3"],
  ])("backs up from the last of %i replicas, on the schedule, with retention", (replicas, source) => {
    const t = parseTopology({ mysql: { replicas }, backups: { schedule: "0 2 * * *", retentionDays: 9, keepLast: 4 } });
    const e = toEnv(
      backupEnv(t, dockerAddresses(t), { endpoint: "http://bucket:8333", bucket: "b" }, { access: "a", secret: "s" }),
    );
    expect(present(e.BACKUP_MYSQL_SOURCE, "BACKUP_MYSQL_SOURCE").split(":")[0]).toBe(source);
    expect([e.BACKUP_SCHEDULE, e.BACKUP_RETENTION_DAYS, e.BACKUP_KEEP_LAST]).toEqual(["0 2 * * *", "9", "4"]);
    expect(e.BACKUP_MYSQL_USER).toBe(t.mysql.users.backup.name);
  });
});
