import { parse } from "yaml";
import { hostPort, localAddresses, parseTopology, type Addresses, type TopologyInput } from "../topology";
import { exactly, first } from "../../test/support/checked";
import { renderPrometheusYml } from "./prometheus";

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs: Array<{ targets: string[]; labels?: Record<string, string> }>;
  relabel_configs?: Array<Record<string, unknown>>;
}

const buildTopology = (input: TopologyInput = {}) => parseTopology(input);

function render(input: TopologyInput = {}, addresses?: (a: Addresses) => Addresses) {
  const t = buildTopology(input);
  const local = localAddresses(t, "10.1.2.3");
  const a = addresses ? addresses(local) : local;
  const config = parse(renderPrometheusYml(t, a, { ruleFiles: ["/etc/floodgate/rules/stack.yml"] }));
  const job = (name: string): ScrapeConfig => {
    const found = (config.scrape_configs as ScrapeConfig[]).find((j) => j.job_name === name);
    if (!found) throw new Error(`no job ${name}`);
    return found;
  };
  return { t, a, config, job };
}

describe("renderPrometheusYml", () => {
  it("scrapes every component once", () => {
    const { config } = render();

    expect((config.scrape_configs as ScrapeConfig[]).map((j) => j.job_name)).toEqual([
      "prometheus",
      "alertmanager",
      "api",
      "tracker",
      "workers",
      "nginx",
      "node",
      "mysqld",
      "redis",
      "redis-exporter",
      "rabbitmq",
      "rabbitmq-queues",
      "backups",
      "autoscaler",
    ]);
  });

  it("scrapes RabbitMQ's per-queue families from the detailed endpoint", () => {
    const { a, job } = render();
    const queues = job("rabbitmq-queues") as ScrapeConfig & { params?: Record<string, string[]> };
    expect(queues.metrics_path).toBe("/metrics/detailed");
    expect(queues.params).toEqual({ family: ["queue_coarse_metrics", "queue_consumer_count"] });
    expect(queues.static_configs).toEqual([{ targets: a.rabbitmqNodeMetrics.map(hostPort) }]);
  });

  it("scrapes every RabbitMQ node, each reporting the queues it leads", () => {
    const nodes = ["rabbitmq", "rabbitmq-2", "rabbitmq-3"].map((host) => ({ host, port: 15693 }));
    const { job } = render({}, (local) => ({ ...local, rabbitmqNodeMetrics: nodes }));
    const targets = ["rabbitmq:15693", "rabbitmq-2:15693", "rabbitmq-3:15693"];

    expect(job("rabbitmq").static_configs).toEqual([{ targets }]);
    expect(job("rabbitmq-queues").static_configs).toEqual([{ targets }]);
  });

  it("scrapes the backup service only where one runs", () => {
    const { a, job } = render();
    expect(job("backups").static_configs).toEqual([{ targets: [hostPort(a.backups!)] }]);
    const without = render({}, (local) => ({ ...local, backups: undefined }));
    expect(() => without.job("backups")).toThrow("no job backups");
  });

  it.each([
    [1, 5],
    [5, 1],
  ])("takes the scrape interval (%is) and evaluation interval (%is) from the topology", (scrape, evaluation) => {
    const { config } = render({ monitoring: { scrapeIntervalSeconds: scrape, evaluationIntervalSeconds: evaluation } });

    expect(config.global).toEqual({ scrape_interval: `${scrape}s`, evaluation_interval: `${evaluation}s` });
  });

  it("loads the rule files it is given and sends alerts to the Alertmanager's address", () => {
    const { a, config } = render();

    expect(config.rule_files).toEqual(["/etc/floodgate/rules/stack.yml"]);
    expect(config.alerting.alertmanagers).toEqual([{ static_configs: [{ targets: [hostPort(a.alertmanager)] }] }]);
  });

  it.each([2, 5])("scrapes each of %i API replicas with a replica label", (replicas) => {
    const { a, job } = render({ api: { replicas } });

    expect(job("api").static_configs).toEqual(
      a.api.map((s, i) => ({ targets: [hostPort(s)], labels: { replica: `api-${i + 1}` } })),
    );
    expect(job("api").static_configs).toHaveLength(replicas);
  });

  it.each([
    [3, 1, 6],
    [4, 1, 8],
    [3, 0, 3],
  ])(
    "asks the redis exporter to scrape all nodes of %i masters × %i replicas (%i nodes)",
    (masters, replicasPerMaster, nodes) => {
      const { a, job } = render({ redis: { masters, replicasPerMaster } });
      const redis = job("redis");

      expect(redis.metrics_path).toBe("/scrape");
      expect(redis.static_configs).toEqual([{ targets: a.redis.map((n) => `redis://${hostPort(n)}`) }]);
      expect(first(redis.static_configs, "the redis job's static config").targets).toHaveLength(nodes);
      expect(redis.relabel_configs).toEqual([
        { source_labels: ["__address__"], target_label: "__param_target" },
        { source_labels: ["__param_target"], target_label: "instance" },
        { target_label: "__address__", replacement: hostPort(a.redisExporter) },
      ]);
      expect(job("redis-exporter").static_configs).toEqual([{ targets: [hostPort(a.redisExporter)] }]);
    },
  );

  it("labels the primary's and each replica's mysqld exporter by role", () => {
    const { a, job } = render({ mysql: { replicas: 2 } });
    const [primary, replica1, replica2] = exactly(a.mysqldExporters, 3, "mysqld exporters");

    expect(job("mysqld").static_configs).toEqual([
      { targets: [hostPort(primary)], labels: { role: "primary", mysql_instance: "mysql-primary" } },
      { targets: [hostPort(replica1)], labels: { role: "replica", mysql_instance: "mysql-replica-1" } },
      { targets: [hostPort(replica2)], labels: { role: "replica", mysql_instance: "mysql-replica-2" } },
    ]);
  });

  it.each<[string, keyof Addresses]>([
    ["prometheus", "prometheus"],
    ["alertmanager", "alertmanager"],
    ["tracker", "tracker"],
    ["nginx", "nginxExporter"],
    ["node", "nodeExporter"],
  ])("points the %s job at the %s address", (name, key) => {
    const { a, job } = render({}, (local) => ({ ...local, [key]: { host: `${name}-host`, port: 23456 } }));

    expect(job(name).static_configs).toEqual([{ targets: [`${name}-host:23456`] }]);
    expect(hostPort(a[key] as { host: string; port: number })).toBe(`${name}-host:23456`);
  });

  it.each([
    [0, 0],
    [2, 1],
    [4, 3],
  ])("scrapes %i order workers and %i red-packet workers, each labelled with its queue", (orders, grabs) => {
    const { job } = render({
      workers: { orders: { processes: orders, concurrency: 8 }, redPacketGrabs: { processes: grabs, concurrency: 8 } },
    });
    const configs = job("workers").static_configs;
    expect(configs.filter((c) => c.labels?.queue === "orders")).toHaveLength(orders);
    expect(configs.filter((c) => c.labels?.queue === "redPacketGrabs")).toHaveLength(grabs);
  });

  it("reads RabbitMQ's metrics from the prometheus plugin's /metrics", () => {
    expect(render().job("rabbitmq").metrics_path).toBe("/metrics");
  });
});
