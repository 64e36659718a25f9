import path from "node:path";
import { localAddresses, parseTopology, withPortOffset, type Topology } from "../../infra/topology";
import { StackLayout } from "../../scripts/stack/context";

/** Repository root. */
export const repoRoot = path.resolve(__dirname, "..", "..");

/** The integration test stack's ports sit 1000 above the defaults, so it runs beside `npm start`. */
export const TEST_PORT_OFFSET = 1000;

/** The test stack's topology: the defaults, moved to the test ports. */
export function testTopology(): Topology {
  return withPortOffset(parseTopology({}), TEST_PORT_OFFSET);
}

/** The test stack's addresses. */
export const testAddresses = () => localAddresses(testTopology());

/** The test stack's state folder. */
export const testLayout = () => new StackLayout(path.join(repoRoot, ".floodgate", "test-stack"));
