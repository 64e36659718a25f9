import path from "node:path";
import { readRuleFiles } from "../../../../monitoring/rule-files";
import { firstAddress, hostPort, mysqldExporterTargets, type HostPort } from "../../../topology";
import { renderAlertmanagerYml, renderExporterMyCnf, renderPrometheusYml } from "../../../render";
import { exitedMessage, writeConfig, type StackContext } from "../context";
import { waitFor } from "../wait";
import { httpGet } from "./api";

interface HttpProcess {
  name: string;
  command: string;
  args: string[];
  address: HostPort;
  readyPath: string;
  env?: Record<string, string>;
}

async function startHttpProcess(ctx: StackContext, p: HttpProcess): Promise<void> {
  ctx.supervisor.start({
    name: p.name,
    command: p.command,
    args: p.args,
    env: p.env,
    logFile: ctx.layout.log(p.name),
    address: hostPort(p.address),
    restart: true,
  });
  await waitFor(p.name, async () => (await httpGet(`http://${hostPort(p.address)}${p.readyPath}`)).status === 200, {
    timeoutMs: 30_000,
    intervalMs: 200,
    gone: exitedMessage(ctx, p.name),
  });
}

/** Render prometheus.yml for the stack's current addresses (the autoscaler re-renders it as API replicas come and go). */
export function writePrometheusYml(ctx: StackContext): string {
  return writeConfig(
    path.join(ctx.layout.dir("prometheus"), "prometheus.yml"),
    renderPrometheusYml(ctx.topology, ctx.addresses, { ruleFiles: readRuleFiles().map((r) => r.path) }),
  );
}

/** Start the exporters, Alertmanager and Prometheus, each ready when its HTTP endpoint answers. */
export async function startMonitoring(ctx: StackContext): Promise<void> {
  const { topology: t, addresses: a, layout } = ctx;
  const listen = (hp: HostPort) => `${ctx.bindHost}:${hp.port}`;
  const processes: HttpProcess[] = [
    {
      name: "node-exporter",
      command: "prometheus-node-exporter",
      args: [`--web.listen-address=${listen(a.nodeExporter)}`],
      address: a.nodeExporter,
      readyPath: "/metrics",
    },
    {
      name: "nginx-exporter",
      command: "prometheus-nginx-exporter",
      args: [
        `-nginx.scrape-uri=http://${hostPort(a.nginxStatus)}/stub_status`,
        `-web.listen-address=${listen(a.nginxExporter)}`,
      ],
      address: a.nginxExporter,
      readyPath: "/metrics",
    },
    {
      name: "redis-exporter",
      command: "prometheus-redis-exporter",
      args: [
        `-redis.addr=redis://${hostPort(firstAddress(a, "redis"))}`,
        "-redis.user=exporter",
        `-web.listen-address=${listen(a.redisExporter)}`,
      ],
      env: { REDIS_PASSWORD: t.redis.users.exporter.password },
      address: a.redisExporter,
      readyPath: "/metrics",
    },
    ...mysqldExporterTargets(a).map(({ exporter: address, server }, i) => {
      const name = `mysqld-exporter-${i === 0 ? "primary" : `replica-${i}`}`;
      const myCnf = writeConfig(path.join(layout.dir(name), "my.cnf"), renderExporterMyCnf(t, server));
      return {
        name,
        command: "prometheus-mysqld-exporter",
        args: [`--config.my-cnf=${myCnf}`, `--web.listen-address=${listen(address)}`],
        address,
        readyPath: "/metrics",
      };
    }),
    {
      name: "alertmanager",
      command: "prometheus-alertmanager",
      args: [
        `--config.file=${writeConfig(path.join(layout.dir("alertmanager"), "alertmanager.yml"), renderAlertmanagerYml(t, a))}`,
        `--storage.path=${layout.dir("alertmanager/data")}`,
        `--web.listen-address=${listen(a.alertmanager)}`,
        "--cluster.listen-address=", // a single instance: no gossip port
      ],
      address: a.alertmanager,
      readyPath: "/-/ready",
    },
    {
      name: "prometheus",
      command: "prometheus",
      args: [
        `--config.file=${writePrometheusYml(ctx)}`,
        `--storage.tsdb.path=${layout.dir("prometheus/data")}`,
        `--storage.tsdb.retention.time=${t.monitoring.retentionHours}h`,
        `--web.listen-address=${listen(a.prometheus)}`,
        "--web.enable-lifecycle",
      ],
      address: a.prometheus,
      readyPath: "/-/ready",
    },
  ];
  await Promise.all(processes.map((p) => startHttpProcess(ctx, p)));
  ctx.progress(`monitoring ready: prometheus http://${hostPort(a.prometheus)}, ${processes.length - 2} exporters`);
}
