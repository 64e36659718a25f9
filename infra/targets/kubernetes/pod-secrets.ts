import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { finishPodSpec, type PodDefaults } from "./pod-defaults";

type PodTemplate = k8s.types.input.core.v1.PodTemplateSpec;
type PodSpec = k8s.types.output.core.v1.PodSpec;

/** The pod template annotation holding the digest of the Secret values a pod reads. */
export const SECRETS_DIGEST_ANNOTATION = "floodgate.dev/secrets-sha256";

/** One Secret value a pod reads: a key of a Secret, or (key undefined) the whole Secret. */
export interface SecretRef {
  secret: string;
  key?: string;
}

/** A SecretRef whose Secret name may still be an Output (a Secret resource's name). */
export interface SecretRefInput {
  secret: pulumi.Input<string>;
  key?: string;
}

/**
 * The Secret values a pod spec reads: environment variables from a Secret's key (`secretKeyRef`),
 * whole Secrets as environment (`envFrom`) and Secret volumes (their `items`, else every key).
 */
export function secretRefs(spec: PodSpec): SecretRef[] {
  const refs: SecretRef[] = [];
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) refs.push({ secret: ref.name, key: ref.key });
    }
    for (const e of c.envFrom ?? []) if (e.secretRef) refs.push({ secret: e.secretRef.name });
  }
  for (const v of spec.volumes ?? []) {
    const s = v.secret;
    if (!s) continue;
    if (s.items && s.items.length > 0) for (const item of s.items) refs.push({ secret: s.secretName, key: item.key });
    else refs.push({ secret: s.secretName });
  }
  return refs;
}

/**
 * The program's Secrets and, for each pod template, a digest of exactly the Secret values its pods
 * read (SECRETS_DIGEST_ANNOTATION). Kubernetes restarts nothing when a Secret changes, so without it a
 * rotated password reaches a pod only when the pod happens to restart: with it, `pulumi up` rolls
 * exactly the pods that read a rotated value, and replaces (so re-runs) each Job that applies one.
 * The digest is one sha256 over each value with its Secret and key. Whoever can read pod specs can
 * test guesses of a pod's values against it offline, as against Bitnami's checksum annotations: the
 * docs/operations.md ("2. Set the secrets") has them set to 40 random characters, which no guessing reaches. A pod reading a
 * Secret this registry did not make fails the deployment, so no pod is left out — which is why the
 * settings every pod shares are added here too (see the constructor).
 */
export class PodSecrets {
  private readonly contents = new Map<string, pulumi.Output<Record<string, string>>>();

  /** `pod`: what every pod of the program shares, added by finishPodSpec. */
  constructor(
    private readonly namespace: pulumi.Input<string>,
    private readonly pod: PodDefaults = {},
  ) {}

  /** A Secret named `name` in the namespace, remembered for the pods that read it. */
  secret(
    resourceName: string,
    name: string,
    stringData: pulumi.Input<Record<string, pulumi.Input<string>>>,
    opts: pulumi.CustomResourceOptions,
  ): k8s.core.v1.Secret {
    if (this.contents.has(name)) throw new Error(`two Secrets named ${name}`);
    this.contents.set(name, pulumi.output(stringData) as pulumi.Output<Record<string, string>>);
    return new k8s.core.v1.Secret(resourceName, { metadata: { name, namespace: this.namespace }, stringData }, opts);
  }

  /**
   * `template` with the digest of the Secret values its pods read. `firstStartOnly`: values the
   * software reads only when it initialises an empty volume (MariaDB's MARIADB_ROOT_PASSWORD), whose
   * change must not restart it — a job applies them in place.
   */
  template(template: PodTemplate, opts: { firstStartOnly?: SecretRefInput[] } = {}): PodTemplate {
    const digest = pulumi.all([template.spec, pulumi.output(opts.firstStartOnly ?? [])]).apply(([spec, first]) => {
      const skip = new Set(first.map((r) => `${r.secret}/${r.key ?? ""}`));
      const refs = secretRefs(spec as PodSpec).filter((r) => !skip.has(`${r.secret}/${r.key ?? ""}`));
      const values = refs.map((r) => {
        const data = this.contents.get(r.secret);
        if (!data) throw new Error(`a pod reads the Secret ${r.secret}, which the program does not make`);
        return data.apply((d) => {
          if (r.key !== undefined && !(r.key in d)) throw new Error(`a pod reads ${r.secret}/${r.key}, which it lacks`);
          return r.key === undefined ? d : { [r.key]: d[r.key] };
        });
      });
      return pulumi.all(values).apply((read) => {
        const entries = refs.map((r, i) => [r.secret, r.key ?? "", read[i]] as const);
        const sorted = entries.sort((a, b) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`));
        return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
      });
    });
    // Left plain (see above), so the workloads hold no secret output and their diffs stay readable.
    const plainDigest = pulumi.unsecret(digest);
    const metadata = (template.metadata ?? {}) as k8s.types.input.meta.v1.ObjectMeta;
    const annotations = (metadata.annotations ?? {}) as Record<string, pulumi.Input<string>>;
    const spec = template.spec as k8s.types.input.core.v1.PodSpec;
    return {
      ...template,
      metadata: { ...metadata, annotations: { ...annotations, [SECRETS_DIGEST_ANNOTATION]: plainDigest } },
      spec: finishPodSpec(spec, this.pod),
    };
  }

  /** A Job's or set's spec with its pod template digested (see `template`). */
  spec<S extends { template: pulumi.Input<PodTemplate> }>(
    spec: S,
    opts: { firstStartOnly?: SecretRefInput[] } = {},
  ): S {
    return { ...spec, template: this.template(spec.template as PodTemplate, opts) };
  }
}
