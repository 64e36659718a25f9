import * as pulumi from "@pulumi/pulumi";
import type { DeployConfig, SecretName } from "../../infra/deployment";
import { parseStackConfig, SECRET_NAMES, type RawStackConfig } from "../../infra/config";

/** Every secret's name, in a stable order. */
export { SECRET_NAMES } from "../../infra/config";

/**
 * A distinctive plain value per secret, so a test can search every resource input for it. Each is
 * 32+ characters (the JWT secret's minimum) and unlike anything a renderer or placeholder produces.
 */
export function testSecretValue(name: SecretName): string {
  return `TEST-SECRET-${name}-7f3c9e1a5b2d4c6e8f0a`;
}

/** The plain values of every test secret (what must never appear outside a Pulumi secret). */
export function testSecretValues(): string[] {
  return SECRET_NAMES.map(testSecretValue);
}

/** Every secret as a Pulumi secret Output, as `config.requireSecret` returns them. */
export function testSecrets(): Record<SecretName, pulumi.Output<string>> {
  return Object.fromEntries(SECRET_NAMES.map((n) => [n, pulumi.secret(testSecretValue(n))])) as Record<
    SecretName,
    pulumi.Output<string>
  >;
}

/** A DeployConfig for tests, through the real `parseStackConfig`; `raw` overrides stack config keys. */
export function buildDeployConfig(target: "docker" | "kubernetes", raw: RawStackConfig = {}): DeployConfig {
  return parseStackConfig({ target, ...raw }, testSecrets());
}
