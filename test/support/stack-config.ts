import fs from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { RawStackConfig } from "../../infra/config";
import { SECRET_NAMES, testSecretValue } from "./deploy-config";
import type { SecretName } from "../../infra/deployment";

/** The repository root (where Pulumi.yaml and the stack files live). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The `floodgate:` values of a stack file (Pulumi.<stack>.yaml), without the prefix. */
export function readStackFile(stack: string): RawStackConfig {
  const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(doc.config ?? {})
      .filter(([k]) => k.startsWith("floodgate:"))
      .map(([k, v]) => [k.slice("floodgate:".length), v]),
  );
}

/**
 * Feed a stack file plus every test secret to `pulumi.Config`, as `pulumi up` would: plain values
 * as the engine passes them (strings, objects as JSON) and the secrets marked secret.
 */
export function useStackConfig(
  stack: string,
  overrides: RawStackConfig = {},
  secrets: Partial<Record<SecretName, string>> = {},
): RawStackConfig {
  const raw = { ...readStackFile(stack), ...overrides };
  const asString = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) values[`floodgate:${k}`] = asString(v);
  for (const name of SECRET_NAMES) values[`floodgate:${name}`] = secrets[name] ?? testSecretValue(name);
  pulumi.runtime.setAllConfig(
    values,
    SECRET_NAMES.map((n) => `floodgate:${n}`),
  );
  return raw;
}
