/**
 * status: every component of the local stack in one table — processes, MariaDB primary and
 * replication, the Redis Cluster, RabbitMQ's queues and consumers, Prometheus's targets and the
 * alerts firing now. Read-only.
 */
import { hostPort } from "../infra/topology";
import { mysqlSockets, replicaStatus, rootSql } from "../scripts/stack/components/mysql";
import { parseClusterInfo, redisAdmin } from "../scripts/stack/components/redis";
import { isAlive } from "../scripts/stack/supervisor";
import { COMMON_HELP, localStack, parseRunbookArgs, Runbook, type LocalStack } from "./lib/runbook";

const HELP = `usage: npm run runbook -- status [options]

One table of every component's health on the local stack; exit code 1 when anything is unhealthy.

${COMMON_HELP}`;

async function json<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

const attempt = async <T>(fn: () => Promise<T>): Promise<T | Error> => fn().catch((e: Error) => e);

export async function main(argv: string[]): Promise<number> {
  const { options, help } = parseRunbookArgs(argv, {});
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const stack = localStack(options.stateDir);
  const book = new Runbook("status", options);
  let healthy = true;
  const check = (what: string, ok: boolean, detail: string) => (healthy = book.check(what, ok, detail) && healthy);

  book.step("processes");
  for (const p of stack.state.processes) check(`process ${p.name}`, isAlive(p.pid), `pid ${p.pid} ${p.address}`);

  book.step("MariaDB");
  await mariadb(stack, check);
  book.step("Redis Cluster");
  const infos = await Promise.all(
    stack.addresses.redis.map((n) =>
      attempt(async () => parseClusterInfo(await redisAdmin(stack, n, ["CLUSTER", "INFO"]))),
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
  const { vhost, users } = stack.topology.rabbitmq;
  const auth = {
    authorization: `Basic ${Buffer.from(`${users.admin.name}:${users.admin.password}`).toString("base64")}`,
  };
  const queues = await attempt(() =>
    json<Array<{ name: string; messages_ready: number; messages_unacknowledged: number; consumers: number }>>(
      `http://${hostPort(stack.addresses.rabbitmqManagement)}/api/queues/${encodeURIComponent(vhost)}`,
      auth,
    ),
  );
  if (queues instanceof Error) check("rabbitmq", false, queues.message);
  else
    for (const q of queues) {
      const dlq = q.name.endsWith(".dlq");
      const ok = dlq ? q.messages_ready === 0 : q.consumers > 0;
      check(
        `queue ${q.name}`,
        ok,
        `${q.messages_ready} ready, ${q.messages_unacknowledged} unacked, ${q.consumers} consumers`,
      );
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

async function mariadb(stack: LocalStack, check: (what: string, ok: boolean, detail: string) => boolean) {
  for (const [name, socket] of Object.entries(mysqlSockets(stack))) {
    const up = await attempt(() => rootSql(socket, "SELECT @@read_only"));
    if (up instanceof Error) {
      check(name, false, up.message.split("\n")[0]);
      continue;
    }
    if (name === "mysql-primary") {
      check(name, up.trim() === "0", `read_only=${up.trim()}`);
      continue;
    }
    const s = await replicaStatus(socket);
    check(
      name,
      s.Slave_IO_Running === "Yes" && s.Slave_SQL_Running === "Yes",
      `IO ${s.Slave_IO_Running ?? "?"}, SQL ${s.Slave_SQL_Running ?? "?"}, ${s.Seconds_Behind_Master ?? "?"} s behind`,
    );
  }
}
