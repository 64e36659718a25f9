/**
 * Strict validation of Kubernetes objects against kubernetes-models' schemas: the package's own
 * validate() for types, enums, formats and required fields, plus rejection of unknown fields.
 *
 * Why a walker of our own: kubernetes-models' validate() accepts unknown fields (its generated schemas
 * carry no `additionalProperties: false`; `spec.replicass` passes), and it offers no strict option —
 * the schemas ship only as precompiled ajv functions, so no ajv option (`removeAdditional`, strict
 * mode) can be applied and there is no JSON schema to walk. What the package does expose is what its
 * validator reads: the compiled code reads every field its schema declares (`data.spec`, and each key
 * of a map such as `labels`) and never a field it does not. So the object is validated through a
 * Proxy that records each read, and any field the validator never read is one the schema does not
 * know — as the API server's strict field validation (`kubectl --validate=strict`) would reject it.
 * The one way this errs is loudly: a declared field whose schema constrains nothing is never read, so
 * it would be reported unknown (no object the program declares raises one today).
 */

/** A kubernetes-models class: its `validate()` checks `this` against the package's compiled schema. */
export interface ApiModel {
  readonly apiVersion: string;
  readonly kind: string;
  readonly prototype: { validate(this: unknown): void };
}

/** The Pulumi type token (`kubernetes:apps/v1:Deployment`) of a model's kind: core kinds under `core/v1`. */
export function pulumiTypeOf(model: ApiModel): string {
  const group = model.apiVersion.includes("/") ? model.apiVersion : `core/${model.apiVersion}`;
  return `kubernetes:${group}:${model.kind}`;
}

/** A JSON pointer (`/spec/containers/0/name`) as kubectl names a field (`spec.containers[0].name`). */
export function fieldPath(pointer: string): string {
  const segments = pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  return segments.reduce((p, s) => (/^\d+$/.test(s) ? `${p}[${s}]` : p ? `${p}.${s}` : s), "") || "(root)";
}

type Reads = WeakMap<object, Set<string>>;

/** `value` behind Proxies that record, per object, every property read through them. */
function watched<T>(value: T, reads: Reads): T {
  if (value === null || typeof value !== "object") return value;
  return new Proxy(value as object, {
    get(target, key, receiver) {
      if (typeof key === "string") {
        const seen = reads.get(target) ?? new Set<string>();
        reads.set(target, seen.add(key));
      }
      return watched(Reflect.get(target, key, receiver), reads);
    },
  }) as T;
}

/** Every field of `value` that the validator never read, by path. */
function unreadFields(value: unknown, reads: Reads, pointer = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unreadFields(v, reads, `${pointer}/${i}`));
  if (value === null || typeof value !== "object") return [];
  const seen = reads.get(value) ?? new Set<string>();
  return Object.entries(value).flatMap(([key, v]) => {
    if (v === undefined) return []; // never serialized, so never sent to the API server
    const child = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    return seen.has(key) ? unreadFields(v, reads, child) : [`${fieldPath(child)}: unknown field`];
  });
}

interface AjvError {
  instancePath: string;
  message?: string;
}

/** Every way `object` breaks `model`'s schema, each as `path: problem`; empty when it is valid. */
export function schemaViolations(model: ApiModel, object: object): string[] {
  const reads: Reads = new WeakMap();
  const problems: string[] = [];
  try {
    model.prototype.validate.call(watched(object, reads));
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!errors) throw err;
    problems.push(...errors.map((e) => `${fieldPath(e.instancePath)}: ${e.message ?? "invalid"}`));
  }
  return [...new Set([...problems, ...unreadFields(object, reads)])];
}
