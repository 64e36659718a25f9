import { parseTopology, withPortOffset, type Topology } from "../../infra/topology";

/** The bench stack's ports sit 2500 above the defaults, beside `npm start` and the test stacks (not 2000:
 * fetch refuses port 10080, where nginx would land). */
export const BENCH_PORT_OFFSET = 2500;

/**
 * The topology the benchmark runs: the defaults, with the limits that protect production from one
 * client raised out of the way (every request here comes from 127.0.0.1, so per-address limits
 * would measure the limiter), the naive baseline route on, and no autoscaler (a fixed stack).
 */
export function benchTopology(offset = BENCH_PORT_OFFSET): Topology {
  return withPortOffset(
    parseTopology({
      nginx: { rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000, connectionsPerIp: 65_535 },
      api: {
        naiveBaseline: true,
        tokenTtlSeconds: 86_400,
        rateLimits: { perIpPerSecond: 1_000_000, perUserPerSecond: 1_000_000 },
      },
      autoscaling: { enabled: false },
    }),
    offset,
  );
}
