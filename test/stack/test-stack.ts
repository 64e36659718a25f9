import path from "node:path";
import { localAddresses, parseTopology, WORKER_KINDS, withPortOffset, type Topology } from "../../infra/topology";
import { StackLayout } from "../../infra/targets/local/context";

/** Repository root. */
export const repoRoot = path.resolve(__dirname, "..", "..");

/**
 * The integration test stack's ports sit 1000 above the defaults, so it runs beside `npm start`.
 * FLOODGATE_TEST_PORT_OFFSET moves it elsewhere (4000 and 5000 are also disjoint from every other stack),
 * so two test runs on one machine do not collide.
 */
export const TEST_PORT_OFFSET = Number(process.env.FLOODGATE_TEST_PORT_OFFSET ?? 1000);

/**
 * The test stack's topology: the defaults moved to the test ports, with three changes. Every test
 * client is 127.0.0.1, so the per-address login and sign-up budgets are raised (the limits themselves
 * are tested with their own client addresses); and L1 lives 30 s, so a test that sees fresh data on another replica
 * proves pub/sub invalidation, not TTL expiry; and no autoscaler (below).
 */
export function testTopology(): Topology {
  // The autoscaler stays off here, so load from one test never changes the replicas another sees;
  // test/autoscaling/ runs it on a stack of its own.
  const t = parseTopology({
    api: { rateLimits: { loginsPerMinutePerIp: 1000, signupsPerMinutePerIp: 1000 }, cache: { l1TtlMs: 30_000 } },
    autoscaling: { enabled: false },
  });
  // Development aid: FLOODGATE_TEST_ONLY_WORKERS=orders starts only those worker kinds (npm test runs all).
  const only = process.env.FLOODGATE_TEST_ONLY_WORKERS?.split(",");
  if (only) {
    for (const kind of WORKER_KINDS) if (!only.includes(kind)) t.workers[kind].processes = 0;
  }
  return withPortOffset(t, TEST_PORT_OFFSET);
}

/** The test stack's addresses. */
export const testAddresses = () => localAddresses(testTopology());

/** The test stack's state folder. */
export const testLayout = () =>
  new StackLayout(
    path.join(repoRoot, ".floodgate", TEST_PORT_OFFSET === 1000 ? "test-stack" : `test-stack-${TEST_PORT_OFFSET}`),
  );
