import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

/**
 * Pulumi's own mocks, recording every resource the program registers. Tests call
 * `await recordResources()` in `beforeAll`, then `require()` the program.
 */

/** The key and value Pulumi's wire format uses to mark a secret: `{ [SECRET_SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
/** See SECRET_SIG_KEY. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** One registered resource, as the engine would have received it. */
export interface RecordedResource {
  type: string;
  name: string;
  custom: boolean;
  /** Inputs as the mock API hands them over: secretness pushed up to the top-level property. */
  inputs: Record<string, unknown>;
  /**
   * Inputs exactly as serialized on the wire: every secret is still a `{ [SECRET_SIG_KEY]: SECRET_SIG, value }`
   * object at the place it was nested, so a plain secret beside a secret sibling is still visible.
   */
  rawInputs: Record<string, unknown>;
  /** The URN the mock monitor gave it. */
  urn: string;
  /** The parent's URN ("" for the stack's own children). */
  parent: string;
  /**
   * URNs of every resource it depends on, as the SDK sent them to the engine: explicit `dependsOn`
   * (a component expanded to its custom children) and implicit ones through Output inputs.
   */
  dependencies: string[];
  /** `ignoreChanges` paths: the engine keeps the old value of these on an update. */
  ignoreChanges: string[];
  /** `additionalSecretOutputs`: outputs the engine stores encrypted although the provider returns them plain. */
  additionalSecretOutputs: string[];
  /** `retainOnDelete`: the engine leaves the resource in place when it deletes it from the stack. */
  retainOnDelete: boolean;
}

/** Everything registered so far, in registration order. */
export const recorded: RecordedResource[] = [];

let mocksSet = false;
/** What only the wire request carries (the mock API's `newResource` does not see it). */
type WireRecord = Pick<
  RecordedResource,
  "rawInputs" | "urn" | "parent" | "dependencies" | "ignoreChanges" | "additionalSecretOutputs" | "retainOnDelete"
>;
const rawByKey = new Map<string, WireRecord[]>();
const key = (type: string, name: string) => `${type}\u0000${name}`;

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getObject(): { toJavaScript(): Record<string, unknown> };
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getRetainondelete(): boolean | undefined;
}

/** MockMonitor's own URN scheme (private in its typings): the URN it answers the SDK with. */
interface UrnMaker {
  newUrn(parent: string, type: string, name: string): string;
}

// The mock API deserializes inputs, which hoists nested secrets to the top-level property; keep the
// wire form as well, so the "no plain secret" policy cannot be fooled by a secret sibling. The
// request also carries what the engine orders the deployment by (dependencies, parent), which the
// mock API drops: without it a removed `dependsOn` would leave every test green.
const original = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function recordRaw(this: MockMonitor, req: RegisterRequest, callback) {
  const k = key(req.getType(), req.getName());
  const wire: WireRecord = {
    rawInputs: req.getObject().toJavaScript(),
    urn: (this as unknown as UrnMaker).newUrn(req.getParent(), req.getType(), req.getName()),
    parent: req.getParent(),
    dependencies: req.getDependenciesList(),
    ignoreChanges: req.getIgnorechangesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    retainOnDelete: req.getRetainondelete() === true,
  };
  rawByKey.set(k, [...(rawByKey.get(k) ?? []), wire]);
  return original.call(this, req, callback);
};

/** How a one-shot job container (attach: true) ended, as the Docker provider reports it. */
export interface JobOutcome {
  exitCode: number;
  containerLogs: string;
}

/** Outcomes by container name; a job not listed here exits 0 with no output. */
export const jobOutcomes = new Map<string, JobOutcome>();

/** Outputs a component registered (`registerOutputs`), in wire form: secrets still marked. */
export const componentOutputs: Array<{ urn: string; outputs: Record<string, unknown> }> = [];

interface RegisterOutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

const originalOutputs = MockMonitor.prototype.registerResourceOutputs;
MockMonitor.prototype.registerResourceOutputs = function recordOutputs(
  this: MockMonitor,
  req: RegisterOutputsRequest,
  callback,
) {
  componentOutputs.push({ urn: req.getUrn(), outputs: req.getOutputs()?.toJavaScript() ?? {} });
  return originalOutputs.call(this, req, callback);
};

/** What the component registered, once the SDK sent it (after every output resolved). */
export async function registeredOutputs(urn: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const found = componentOutputs.find((c) => c.urn === urn);
    if (found) return found.outputs;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${urn} registered no outputs within ${timeoutMs} ms`);
}

/** Provider-computed values the real providers would return, so the program's applies resolve. */
export function fakeComputedState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  switch (type) {
    case "docker:index/image:Image":
      return {
        imageName: inputs.imageName ?? name,
        repoDigest: `${String(inputs.imageName)}@sha256:${"a".repeat(64)}`,
      };
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: `sha256:${"b".repeat(64)}`, repoDigest: `${String(inputs.name)}@sha256:${"b".repeat(64)}` };
    case "docker:index/network:Network":
    case "docker:index/volume:Volume":
      return { name: inputs.name ?? name };
    case "docker:index/container:Container":
      // The provider waits for an attached container to exit and records how it ended.
      if (inputs.attach === true) {
        const outcome = jobOutcomes.get(String(inputs.name)) ?? { exitCode: 0, containerLogs: "" };
        return { name: inputs.name ?? name, ...outcome };
      }
      return { name: inputs.name ?? name };
  }
  if (type.startsWith("kubernetes:")) {
    const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
    return {
      metadata: { ...metadata, name: metadata.name ?? `${name}-mock0000`, namespace: metadata.namespace ?? "default" },
    };
  }
  return {};
}

/** Install recording mocks (idempotent per test file). Call before requiring any program module. */
export async function recordResources(stack = "docker", project = "floodgate"): Promise<RecordedResource[]> {
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const k = key(args.type, args.name);
        // A read (`Resource.get`) does not pass registerResource: it has no wire record.
        const wire = (rawByKey.get(k) ?? []).shift() ?? {
          rawInputs: args.inputs,
          urn: "",
          parent: "",
          dependencies: [],
          ignoreChanges: [],
          additionalSecretOutputs: [],
          retainOnDelete: false,
        };
        recorded.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs, ...wire });
        const state = { ...args.inputs, ...fakeComputedState(args.type, args.name, args.inputs) };
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        return args.inputs;
      },
    },
    project,
    stack,
    false,
  );
  mocksSet = true;
  return recorded;
}

/** Throw at once (instead of hanging on the first await) when a test forgot `recordResources()`. */
export function assertMocksSet(): void {
  if (!mocksSet)
    throw new Error("Pulumi mocks are not set: call `await recordResources()` before requiring the program");
}

/** The promise every Output carries (not in the SDK's public typings). */
interface OutputPromise<T> {
  promise(): Promise<T>;
}

/**
 * The value of an Output, failing after `timeoutMs` rather than hanging when the engine is missing;
 * rejecting with the Output's own error when it failed (a throwing apply, a failed registration).
 */
export function settle<T>(output: pulumi.Input<T>, timeoutMs = 60_000): Promise<T> {
  assertMocksSet();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`output did not resolve within ${timeoutMs} ms`)), timeoutMs);
    const o = pulumi.output(output);
    o.apply((value) => {
      clearTimeout(timer);
      resolve(value as T);
      return value;
    });
    (o as unknown as OutputPromise<T>).promise().catch((err: unknown) => {
      clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

/** Wait until every resource registration the program started has reached the mocks. */
export async function settleRegistrations(timeoutMs = 60_000): Promise<RecordedResource[]> {
  assertMocksSet();
  let last = -1;
  const deadline = Date.now() + timeoutMs;
  // Registrations complete asynchronously; the count stops growing once the program is done.
  while (recorded.length !== last) {
    if (Date.now() > deadline) throw new Error(`resources still registering after ${timeoutMs} ms`);
    last = recorded.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  return recorded;
}

/** True for a wire-format secret marker object. */
export function isSecretValue(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** Every place in `value` where one of `needles` appears in a string that is not inside a secret marker. */
export function plainOccurrences(value: unknown, needles: string[], path = ""): string[] {
  if (isSecretValue(value)) return [];
  if (typeof value === "string") return needles.some((n) => value.includes(n)) ? [path || "(root)"] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainOccurrences(v, needles, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => plainOccurrences(v, needles, path ? `${path}.${k}` : k));
  }
  return [];
}

/** Recorded resources of one type token. */
export function ofType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

/** Strip secret markers: the plain value, for assertions on content (not on secretness). */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/**
 * Every URN `urn` waits for before the engine creates it: its dependencies and its parent, and
 * theirs, transitively (a child is registered only once its parent is, and a component only once
 * its own `dependsOn` exists).
 */
export function upstreamOf(urn: string, resources: RecordedResource[] = recorded): Set<string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const queue = [urn];
  while (queue.length > 0) {
    const r = byUrn.get(queue.pop()!);
    if (!r) continue;
    for (const next of [...r.dependencies, ...(r.parent ? [r.parent] : [])]) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
