import type * as k8s from "@pulumi/kubernetes";
import { TOPOLOGY_SECRETS, withSecrets, type SecretName } from "../../deployment";
import type { Topology } from "../../topology";

type EnvVar = k8s.types.input.core.v1.EnvVar;

const marker = (name: string) => `@@floodgate-secret:${name}@@`;
const MARKERS = Object.fromEntries(Object.keys(TOPOLOGY_SECRETS).map((name) => [name, marker(name)])) as Record<
  keyof typeof TOPOLOGY_SECRETS,
  string
>;

/** A pod environment: plain variables inline, secret ones as references into one Secret. */
export interface PodEnv {
  env: EnvVar[];
  /** The secrets the references name; the Secret must hold exactly these keys. */
  secretKeys: SecretName[];
}

/**
 * Turn a topology → variables mapping into a pod environment. The mapping runs twice, once with
 * markers in place of the secrets, so every variable that carries a secret is found by value and
 * referenced from `secretName` instead of written into the pod spec.
 */
export function podEnv(t: Topology, render: (t: Topology) => Record<string, string>, secretName: string): PodEnv {
  const plain = render(t);
  const marked = render(withSecrets(t, MARKERS));
  const secretKeys = new Set<SecretName>();
  const env = Object.entries(marked).map(([name, value]): EnvVar => {
    const secret = (Object.keys(MARKERS) as SecretName[]).find((s) => value.includes(marker(s)));
    if (secret === undefined) return { name, value: plain[name] };
    // A secret spliced into a longer value could not be referenced whole; the mapping must not build one.
    if (value !== marker(secret)) throw new Error(`${name}: a secret must be the whole value of a variable`);
    secretKeys.add(secret);
    return { name, valueFrom: { secretKeyRef: { name: secretName, key: secret } } };
  });
  return { env, secretKeys: [...secretKeys].sort() };
}

/** How the app image runs one entry point under services/src/main/ (compiled to dist/ by the Dockerfile, as on Docker). */
export function appCommand(entry: string): string[] {
  return ["node", `dist/services/src/main/${entry}.js`];
}
