import { parseTopology, TopologyError } from "../../infra/topology";

/** The problems parseTopology names for `input`; fails the test when it accepts the input. */
export function topologyProblems(input: unknown): string[] {
  try {
    parseTopology(input);
  } catch (err) {
    if (err instanceof TopologyError) return err.problems;
    throw err;
  }
  throw new Error("expected the topology to be rejected");
}
