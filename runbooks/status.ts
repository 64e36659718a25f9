/**
 * status: every component of the stack in one table — processes, MariaDB primary and
 * replication, the Redis Cluster, RabbitMQ's queues and consumers, Prometheus's targets and the
 * alerts firing now. Read-only.
 */
import { retry } from "zx";
import { hostPort } from "../infra/topology";
import { parseClusterInfo } from "../infra/targets";
import { liveQueues } from "./lib/broker";
import { COMMON_HELP, parseRunbookArgs, Runbook } from "./lib/runbook";
import { firstLine, redisCli } from "./lib/shell";
import { openStack, type RunbookStack } from "./lib/stack";

const HELP = `usage: npm run runbook -- status [options]

One table of every component's health on the stack; exit code 1 when anything is unhealthy.

${COMMON_HELP}`;

async function json<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** One look, asked once more half a second later when it fails (a blip is not an outage); the error if both fail. */
const attempt = async <T>(fn: () => Promise<T>): Promise<T | Error> => retry(2, "500ms", fn).catch((e: Error) => e);

export async function main(argv: string[]): Promise<number> {
  const { options, help } = parseRunbookArgs(argv, {});
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const stack = openStack(options);
  const book = new Runbook("status", options);
  let healthy = true;
  const check = (what: string, ok: boolean, detail: string) => (healthy = book.check(what, ok, detail) && healthy);

  book.step(`processes of ${stack.description}`);
  {
    const processes = await attempt(() => stack.control.list());
    if (processes instanceof Error) check("processes", false, processes.message);
    else
      for (const p of processes)
        check(`process ${p.name}`, p.running, p.detail ?? (p.running ? "running" : "not running"));
  }

  book.step("MariaDB");
  await mariadb(stack, check);
  book.step("Redis Cluster");
  const infos = await Promise.all(
    stack.addresses.redis.map((n) =>
      attempt(async () => parseClusterInfo(await redisCli(stack.topology, n, ["CLUSTER", "INFO"]))),
    ),
  );
  const down = infos.filter((i) => i instanceof Error).length;
  const notOk = infos.filter((i) => !(i instanceof Error) && i.cluster_state !== "ok").length;
  check(
    "redis cluster",
    down === 0 && notOk === 0,
    `${infos.length - down}/${infos.length} nodes answer, ${notOk} not ok`,
  );

  book.step("RabbitMQ");
  const queues = await attempt(() => liveQueues(stack));
  if (queues instanceof Error) check("rabbitmq", false, queues.message);
  else
    for (const q of queues) {
      const ok = q.name.endsWith(".dlq") ? q.ready === 0 : q.consumers > 0;
      check(`queue ${q.name}`, ok, `${q.ready} ready, ${q.unacked ?? "?"} unacked, ${q.consumers} consumers`);
    }

  book.step("Prometheus");
  const prom = `http://${hostPort(stack.addresses.prometheus)}`;
  const targets = await attempt(() =>
    json<{ data: { activeTargets: Array<{ labels: Record<string, string>; health: string }> } }>(
      `${prom}/api/v1/targets`,
    ),
  );
  if (targets instanceof Error) check("prometheus", false, targets.message);
  else {
    const bad = targets.data.activeTargets.filter((t) => t.health !== "up");
    check(
      "scrape targets",
      bad.length === 0,
      bad.map((t) => `${t.labels.job} ${t.labels.instance}`).join(", ") || "all up",
    );
  }
  const alerts = await attempt(() =>
    json<{ data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }>(`${prom}/api/v1/alerts`),
  );
  if (!(alerts instanceof Error)) {
    const firing = alerts.data.alerts.filter((a) => a.state === "firing" && a.labels.alertname !== "Watchdog");
    check(
      "alerts firing",
      firing.length === 0,
      firing.map((a) => a.labels.alertname).join(", ") || "none but the Watchdog",
    );
  }
  return book.finish(healthy);
}

async function mariadb(stack: RunbookStack, check: (what: string, ok: boolean, detail: string) => boolean) {
  for (const name of stack.mysql.names) {
    const up = await attempt(() => stack.mysql.sql(name, "SELECT @@read_only"));
    if (up instanceof Error) {
      check(name, false, firstLine(up.message));
      continue;
    }
    if (name === "mysql-primary") {
      check(name, up.trim() === "0", `read_only=${up.trim()}`);
      continue;
    }
    const s = await stack.mysql.replicaStatus(name);
    check(
      name,
      s.Slave_IO_Running === "Yes" && s.Slave_SQL_Running === "Yes",
      `IO ${s.Slave_IO_Running ?? "?"}, SQL ${s.Slave_SQL_Running ?? "?"}, ${s.Seconds_Behind_Master ?? "?"} s behind`,
    );
  }
}
