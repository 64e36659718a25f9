import fs from "node:fs";
import path from "node:path";

/** Where the Prometheus rule files live: the set Prometheus loads on every target. */
export const RULES_DIR = path.join(__dirname, "rules");

/** One Prometheus rule file: its name and its path, and its content as every target copies it verbatim. */
export interface RuleFile {
  name: string;
  path: string;
  content: string;
}

/** Every rule file (`*.yml`) under `dir`, by name. The local stack loads them in place; Docker and Kubernetes mount copies. */
export function readRuleFiles(dir = RULES_DIR): RuleFile[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yml"))
    .sort()
    .map((name) => ({ name, path: path.join(dir, name), content: fs.readFileSync(path.join(dir, name), "utf8") }));
}
