import fs from "node:fs";
import YAML from "yaml";
import { parseTopology, type Topology } from "../../topology";

/** Load a topology override file (YAML or JSON) and validate it; no file means all defaults. */
export function loadTopologyFile(file: string | undefined): Topology {
  if (!file) return parseTopology({});
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read topology file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseTopology(YAML.parse(text) ?? {});
}
