import { Cluster } from "ioredis";
import { zip } from "./checked";
import type { ServiceConfig } from "./config";

/** An ioredis Cluster client authenticated as the app ACL user; fails fast while Redis is unreachable. */
export function createRedis(config: ServiceConfig): Cluster {
  return new Cluster(config.REDIS_NODES, {
    redisOptions: {
      username: config.REDIS_USER,
      password: config.REDIS_PASSWORD,
      connectTimeout: 1000,
      // A stopped (SIGSTOP) node must cost a request a bounded wait, not a hang.
      commandTimeout: 500,
      maxRetriesPerRequest: 1,
    },
    // Queueing while the cluster is down would turn an outage into unbounded latency: fail fast and
    // let callers degrade (cache → database).
    enableOfflineQueue: false,
    // A frozen (SIGSTOP) master answers neither commands nor MOVED, so timeouts alone never tell
    // ioredis that its replica took over: refresh the slot map every second (npm run chaos found the
    // API timing out on that slot for as long as the old master stayed frozen).
    slotsRefreshInterval: 1000,
    // Commands issued in the same tick go out in one write per node: a CPU profile of a sold-out storm
    // spent 30% of the API's busy time in one socket write per command (and Redis one read per command).
    enableAutoPipelining: true,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    slotsRefreshTimeout: 1000,
    retryDelayOnFailover: 100,
  });
}

/** A hash reply's flat `[field, value, field, value, …]` (HSCAN's page of `key`) as [field, value] pairs. */
export function hashEntries(flat: readonly string[], key: string): Array<[string, string]> {
  const fields = flat.filter((_, i) => i % 2 === 0);
  const values = flat.filter((_, i) => i % 2 === 1);
  return zip(fields, values, `the fields and values of ${key}`);
}
