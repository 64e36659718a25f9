import path from "node:path";
import { localAddresses, parseTopology, withPortOffset, type Topology } from "../../infra/topology";
import { StackLayout } from "../../scripts/stack/context";

/** Repository root. */
export const repoRoot = path.resolve(__dirname, "..", "..");

/**
 * The integration test stack's ports sit 1000 above the defaults, so it runs beside `npm start`.
 * FLOODGATE_TEST_PORT_OFFSET moves it elsewhere (4000 and 5000 are also disjoint from every other stack),
 * so two test runs on one machine do not collide.
 */
export const TEST_PORT_OFFSET = Number(process.env.FLOODGATE_TEST_PORT_OFFSET ?? 1000);

/** The test stack's topology: the defaults, moved to the test ports. */
export function testTopology(): Topology {
  return withPortOffset(parseTopology({}), TEST_PORT_OFFSET);
}

/** The test stack's addresses. */
export const testAddresses = () => localAddresses(testTopology());

/** The test stack's state folder. */
export const testLayout = () =>
  new StackLayout(path.join(repoRoot, ".floodgate", TEST_PORT_OFFSET === 1000 ? "test-stack" : `test-stack-${TEST_PORT_OFFSET}`));
