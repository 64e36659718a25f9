import { Cluster } from "ioredis";
import type { ServiceConfig } from "./config";

/** An ioredis Cluster client authenticated as the app ACL user. */
export function createRedis(config: ServiceConfig): Cluster {
  return new Cluster(config.REDIS_NODES, {
    redisOptions: {
      username: config.REDIS_USER,
      password: config.REDIS_PASSWORD,
      connectTimeout: 2000,
      maxRetriesPerRequest: 2,
    },
    // Fail fast while the cluster is unreachable instead of queueing requests without bound.
    enableOfflineQueue: false,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    slotsRefreshTimeout: 2000,
  });
}
