import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, SECRET_NAMES, STACK_CONFIG_KEYS, type RawStackConfig } from "./config";
import type { SecretName, StackOutputs } from "./deployment";
import { deployDocker } from "./targets/docker";
import { deployKubernetes } from "./targets/kubernetes";

/**
 * The Pulumi program: reads the stack config (the only place that does), validates it with the pure
 * `parseStackConfig`, deploys to the selected target and exports where to reach the result.
 */

const config = new pulumi.Config("floodgate");

function readRaw(): RawStackConfig {
  const raw: RawStackConfig = {};
  for (const [key, kind] of Object.entries(STACK_CONFIG_KEYS)) {
    const value =
      kind === "number"
        ? config.getNumber(key)
        : kind === "boolean"
          ? config.getBoolean(key)
          : kind === "object"
            ? config.getObject<unknown>(key)
            : config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  return raw;
}

const secrets = Object.fromEntries(SECRET_NAMES.map((name) => [name, config.requireSecret(name)])) as Record<
  SecretName,
  pulumi.Output<string>
>;
const cfg = parseStackConfig(readRaw(), secrets);
const outputs: StackOutputs = cfg.target === "kubernetes" ? deployKubernetes(cfg) : deployDocker(cfg);

/** Public URL of the HTTP API (through nginx). */
export const apiUrl = outputs.apiUrl;
/** Public URL of the static files (the CDN edge). */
export const staticUrl = outputs.staticUrl;
/** Prometheus: on the admin port when set, else its address on the private network. */
export const prometheusUrl = outputs.prometheusUrl;
/** Alertmanager: on the admin port when set, else its address on the private network. */
export const alertmanagerUrl = outputs.alertmanagerUrl;
