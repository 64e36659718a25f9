import type { Cluster } from "ioredis";
import type { Database } from "../../platform/db";
import type { MessageBroker } from "../../platform/mq";

/** One dependency's state as seen by this process. */
export interface DependencyCheck {
  status: "up" | "down";
  latencyMs: number;
  /** The driver's error: internal detail, shown only on the replica's internal port. */
  error?: string;
}

/** Every dependency's state as seen by one API process. */
export interface DependencyReport {
  instance: string;
  /** When the probes finished (ms since the epoch). */
  checkedAt: number;
  checks: Record<string, DependencyCheck>;
}

/** What the dependency probes look at. */
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

/** Probe every dependency in parallel, each within TIMEOUT_MS. */
export async function checkDependencies(deps: HealthDeps): Promise<DependencyReport> {
  const probes: Array<[string, () => Promise<unknown>]> = [
    ["mysqlPrimary", () => deps.db.ping("primary")],
    ...deps.db.readers.map((_, i): [string, () => Promise<unknown>] => [`mysqlReplica${i + 1}`, () => deps.db.ping(i)]),
    ["redis", () => redisClusterOk(deps.redis)],
    [
      "rabbitmq",
      async () => {
        if (!deps.mq.connection) throw new Error("not connected");
      },
    ],
  ];
  const checks = Object.fromEntries(
    await Promise.all(probes.map(async ([name, probe]) => [name, await timed(probe)] as const)),
  );
  return { instance: deps.instance, checkedAt: Date.now(), checks };
}
