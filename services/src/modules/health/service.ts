import type { Cluster } from "ioredis";
import type { Database } from "../../platform/db";
import type { MessageBroker } from "../../platform/mq";

/** One dependency's state as seen by this process. */
export interface DependencyCheck {
  status: "up" | "down";
  latencyMs: number;
  error?: string;
}

/** The health report of one API process. */
export interface HealthReport {
  status: "ok" | "degraded";
  instance: string;
  checks: Record<string, DependencyCheck>;
}

/** What the health check looks at. */
export interface HealthDeps {
  instance: string;
  db: Database;
  redis: Cluster;
  mq: MessageBroker;
}

const TIMEOUT_MS = 1500;

async function timed(probe: () => Promise<unknown>): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return { status: "up", latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { status: "down", latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

async function redisClusterOk(redis: Cluster): Promise<void> {
  const info = (await redis.cluster("INFO")) as string;
  if (!/cluster_state:ok/.test(info)) throw new Error("cluster_state is not ok");
}

/** Probe every dependency in parallel; "ok" only when all are up. */
export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const probes: Array<[string, () => Promise<unknown>]> = [
    ["mysqlPrimary", () => deps.db.writer.query("SELECT 1")],
    ...deps.db.readers.map((r, i): [string, () => Promise<unknown>] => [
      `mysqlReplica${i + 1}`,
      () => r.query("SELECT 1"),
    ]),
    ["redis", () => redisClusterOk(deps.redis)],
    [
      "rabbitmq",
      async () => {
        if (!deps.mq.connection) throw new Error("not connected");
      },
    ],
  ];
  const results = await Promise.all(probes.map(([, probe]) => timed(probe)));
  const checks = Object.fromEntries(probes.map(([name], i) => [name, results[i]]));
  const status = results.every((r) => r.status === "up") ? "ok" : "degraded";
  return { status, instance: deps.instance, checks };
}
