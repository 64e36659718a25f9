import { z } from "zod";
import { TopologySchema, type Topology } from "./schema";

/** A topology that failed validation; the message names every bad field and its value. */
export class TopologyError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid topology:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "TopologyError";
  }
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let node: unknown = input;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Parse and validate a topology, filling defaults; throws TopologyError naming each field and value. */
export function parseTopology(input: unknown = {}): Topology {
  const result = TopologySchema.safeParse(input);
  if (result.success) return result.data;
  throw new TopologyError(result.error.issues.map((issue) => describeIssue(issue, input)));
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = issue.path.map(String).join(".") || "(root)";
  const value = "input" in issue && issue.input !== undefined ? issue.input : valueAt(input, issue.path);
  if (value === undefined) return `${field}: ${issue.message}`;
  const shown =
    isSecretPath(field) && typeof value === "string" && value.length > 0 ? "<secret>" : JSON.stringify(value);
  return `${field} = ${shown}: ${issue.message}`;
}

function isSecretPath(field: string): boolean {
  return /(password|secret)$/i.test(field);
}
