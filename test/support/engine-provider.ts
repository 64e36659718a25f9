/**
 * Pulumi's mocks as a small Docker provider on the machine's real Docker Engine (through dockerode):
 * each resource the program registers is created for real, when the SDK registers it — so in the
 * program's dependency order, since the SDK registers a resource only once its dependencies and
 * inputs have resolved, as the engine would order them — and its outputs are what the Engine
 * reports (a one-shot job's real exit code and logs reach the program's own failure check).
 *
 * What this cannot prove: the Pulumi engine itself (diffs, replacements, state, `pulumi up`'s
 * ordering of updates and deletes) and @pulumi/docker's own code. Where the provider's behaviour
 * had to be written down, it is this mapping from its inputs to the Engine API:
 *   Network       name, driver, ipamConfigs[subnet, ipRange]       → POST /networks/create
 *   Volume        name                                             → POST /volumes/create
 *   RemoteImage   name                                             → the local image of that name
 *                 (no registry here: `resolveImage` may map it to one built locally)
 *   Image         imageName, build                                 → `resolveImage` (built by the caller)
 *   Container     name, image, command, entrypoints, envs, user, hostname, labels, stopTimeout,
 *                 memory/memorySwap (MB), cpus, cpuShares, restart, healthcheck, volumes
 *                 (volumeName or hostPath), networksAdvanced (name, aliases, ipv4Address),
 *                 ports (published on 127.0.0.1 only, whatever the program asks),
 *                 uploads (written into the container before it starts, mode 0644 or 0755,
 *                 owned by root, as the provider does) → POST /containers/create, then:
 *                 start: false → created only; attach → started and waited for until it exits
 *                 (exitCode, and containerLogs when logs); wait → until healthy or waitTimeout
 *                 (an unhealthy or exited container fails the registration, as the provider's
 *                 "container did not become healthy" does); mustRun → running after start.
 *   Object store stand-in (option objectStoreStandIn; SeaweedFS has no image here):
 *                 RemoteImage named its `image` → a stand-in id, without asking the Engine;
 *                 Container of that id (or of `image`) → once `runImage` exists (waited for: the
 *                 deployment may still be building it), `runImage` running s3rver (`node -e`,
 *                 required from the host's node_modules, bind-mounted read-only at
 *                 STAND_IN_MODULES), on 0.0.0.0:`port`, data in the container's first volume,
 *                 user root, a `node -e` fetch healthcheck (timings kept); name, networks,
 *                 aliases, addresses, limits and uploads as asked. It accepts s3rver's own access
 *                 key S3RVER alone (any secret key: s3rver checks no SigV4 signature).
 * Every object made carries the label ENGINE_TEST_LABEL=<owner>, so `removeLabelled(owner)` finds
 * what a crashed run left behind — and only its own: test files run side by side.
 */
import type Docker from "dockerode";
import * as pulumi from "@pulumi/pulumi";
import { pack } from "tar-stream";
import { demuxLogs } from "../../services/src/platform/docker-engine";
import { unwrapSecrets } from "./pulumi-mocks";

/** The label on every network, volume and container a test makes on the engine; its value names the owner. */
export const ENGINE_TEST_LABEL = "floodgate.engine-test";

/** The labels of an object `owner` makes (a test file's or a program run's name). */
export const ownedBy = (owner: string): Record<string, string> => ({ [ENGINE_TEST_LABEL]: owner });

/** One object created on the Engine, in creation order. */
export interface EngineObject {
  kind: "network" | "volume" | "container";
  name: string;
  id: string;
  /** The Pulumi resource name it came from. */
  resource: string;
  /** Milliseconds from its registration to its creation being done (started, healthy, exited). */
  ms: number;
}

/** How one-shot jobs ended, by container name. */
export interface JobResult {
  exitCode: number;
  logs: string;
}

export interface EngineProviderOptions {
  docker: Docker;
  /** The ENGINE_TEST_LABEL value on everything it creates. */
  owner: string;
  /** The image to run for a RemoteImage or Image resource (its inputs given); defaults to RemoteImage's name. */
  resolveImage?: (type: string, inputs: Record<string, unknown>) => Promise<string>;
  /** Progress lines. */
  log?: (message: string) => void;
  /** Containers' stdout/stderr are not kept past this many bytes per job. */
  maxLogBytes?: number;
  /** Run s3rver in place of the object store (the mapping above). */
  objectStoreStandIn?: ObjectStoreStandIn;
}

/** What stands in for the object store's image, which no registry here serves. */
export interface ObjectStoreStandIn {
  /** The object store's image reference, as the program's RemoteImage names it; no other image may use it. */
  image: string;
  /** An image with node to run s3rver in (the services image). */
  runImage: string;
  /** The host's node_modules folder, holding s3rver and its dependencies. */
  hostModules: string;
  /** The S3 port inside the container. */
  port: number;
}

/** Where the stand-in sees the host's node_modules (a node_modules folder, so s3rver's own requires resolve). */
export const STAND_IN_MODULES = "/opt/host/node_modules";

/** The image id a RemoteImage of the stand-in's `image` resolves to. */
export const standInImageId = (image: string) => `object-store-stand-in:${image}`;

type Inputs = Record<string, unknown>;

const NS_PER_MS = 1_000_000;

/** A Go-style duration ("10s", "1m30s", "500ms") in nanoseconds, as the provider parses them. */
export function durationNs(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const text = String(value);
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, ns: 0.000_001 };
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g;
  let consumed = "";
  for (const [match, amount, unit] of text.matchAll(re)) {
    const msPerUnit = units[unit ?? ""];
    if (msPerUnit === undefined) throw new Error(`not a duration: ${text}`);
    ms += Number(amount) * msPerUnit;
    consumed += match;
  }
  if (consumed !== text) throw new Error(`not a duration: ${text}`);
  return Math.round(ms * NS_PER_MS);
}

const asList = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/** The Engine API create options of a Container resource's inputs (the mapping above). */
export function containerCreateOptions(inputs: Inputs, image: string, owner: string): Docker.ContainerCreateOptions {
  const networks = asList<{ name: string; aliases?: string[]; ipv4Address?: string }>(inputs.networksAdvanced);
  const ports = asList<{ internal: number; external?: number; protocol?: string }>(inputs.ports);
  const volumes = asList<{ volumeName?: string; hostPath?: string; containerPath: string; readOnly?: boolean }>(
    inputs.volumes,
  );
  const health = inputs.healthcheck as
    { tests: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string } | undefined;
  const [primary] = networks;
  const endpoint = (n: (typeof networks)[number]) => ({
    Aliases: n.aliases,
    ...(n.ipv4Address ? { IPAMConfig: { IPv4Address: n.ipv4Address } } : {}),
  });
  const portKey = (p: (typeof ports)[number]) => `${p.internal}/${p.protocol ?? "tcp"}`;
  const mb = (v: unknown) => (v === undefined ? undefined : Number(v) * 1024 * 1024);
  return {
    name: String(inputs.name),
    Image: image,
    Cmd: inputs.command as string[] | undefined,
    Entrypoint: inputs.entrypoints as string[] | undefined,
    Env: inputs.envs as string[] | undefined,
    User: inputs.user as string | undefined,
    Hostname: inputs.hostname as string | undefined,
    StopTimeout: inputs.stopTimeout as number | undefined,
    Labels: {
      ...Object.fromEntries(asList<{ label: string; value: string }>(inputs.labels).map((l) => [l.label, l.value])),
      ...ownedBy(owner),
    },
    ExposedPorts: Object.fromEntries(ports.map((p) => [portKey(p), {}])),
    Healthcheck: health && {
      Test: health.tests,
      Interval: durationNs(health.interval),
      Timeout: durationNs(health.timeout),
      Retries: health.retries,
      StartPeriod: durationNs(health.startPeriod),
    },
    HostConfig: {
      Memory: mb(inputs.memory),
      MemorySwap: mb(inputs.memorySwap),
      NanoCpus: inputs.cpus === undefined ? undefined : Math.round(Number(inputs.cpus) * 1e9),
      CpuShares: inputs.cpuShares as number | undefined,
      RestartPolicy: { Name: (inputs.restart as string | undefined) ?? "no" },
      Mounts: volumes.map((v) =>
        v.hostPath
          ? { Type: "bind" as const, Source: v.hostPath, Target: v.containerPath, ReadOnly: v.readOnly ?? false }
          : { Type: "volume" as const, Source: v.volumeName!, Target: v.containerPath, ReadOnly: v.readOnly ?? false },
      ),
      // Published on loopback only: test traffic never leaves this machine.
      PortBindings: Object.fromEntries(
        ports.map((p) => [portKey(p), [{ HostIp: "127.0.0.1", HostPort: String(p.external ?? "") }]]),
      ),
    },
    NetworkingConfig: primary ? { EndpointsConfig: { [primary.name]: endpoint(primary) } } : undefined,
  };
}

/** The Engine API create options of the object store's stand-in for a Container's inputs (the mapping above). */
export function standInCreateOptions(
  inputs: Inputs,
  standIn: ObjectStoreStandIn,
  owner: string,
): Docker.ContainerCreateOptions {
  const original = containerCreateOptions(inputs, standIn.runImage, owner);
  const data = asList<{ containerPath: string }>(inputs.volumes)[0]?.containerPath ?? "/tmp/s3rver";
  // vhostBuckets off: s3rver would take a Host header that is a plain name ("bucket") for a bucket's.
  const server = JSON.stringify({
    address: "0.0.0.0",
    port: standIn.port,
    directory: data,
    silent: false,
    vhostBuckets: false,
  });
  const script =
    `const S3rver = require(${JSON.stringify(`${STAND_IN_MODULES}/s3rver`)}); ` +
    `new S3rver(${server}).run().then(() => console.log("s3rver standing in for the object store"), ` +
    "(err) => { console.error(err); process.exit(1); });";
  const probe = `fetch("http://127.0.0.1:${standIn.port}/").then(() => process.exit(0), () => process.exit(1))`;
  return {
    ...original,
    Cmd: ["node", "-e", script],
    Entrypoint: undefined,
    // The volume is root-owned: Docker creates it, and the run image has no folder at its path.
    User: "root",
    Healthcheck: original.Healthcheck && { ...original.Healthcheck, Test: ["CMD", "node", "-e", probe] },
    Labels: { ...original.Labels, [`${ENGINE_TEST_LABEL}.stand-in`]: "s3rver" },
    HostConfig: {
      ...original.HostConfig,
      Mounts: [
        ...(original.HostConfig?.Mounts ?? []),
        { Type: "bind", Source: standIn.hostModules, Target: STAND_IN_MODULES, ReadOnly: true },
      ],
    },
  };
}

/** A tar of the uploads, each at its absolute path, as the provider copies them in before the start. */
export function uploadsTar(
  uploads: Array<{ file: string; content?: string; contentBase64?: string; executable?: boolean }>,
) {
  const tar = pack();
  for (const u of uploads) {
    const body = u.contentBase64 !== undefined ? Buffer.from(u.contentBase64, "base64") : Buffer.from(u.content ?? "");
    tar.entry({ name: u.file.replace(/^\/+/, ""), mode: u.executable ? 0o755 : 0o644, uid: 0, gid: 0 }, body);
  }
  tar.finalize();
  return tar;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The provider: Pulumi mocks whose newResource creates each resource on the Engine. `created`
 * lists what it made; `jobs` how the one-shot jobs ended; `remove()` deletes all of it.
 */
export class EngineProvider implements pulumi.runtime.Mocks {
  readonly created: EngineObject[] = [];
  readonly jobs = new Map<string, JobResult>();
  /** Registrations that failed, with their resource's name. */
  readonly failures: Array<{ resource: string; error: Error }> = [];
  private readonly pending = new Set<Promise<unknown>>();
  /** The RemoteImage resource the object store's stand-in id went to. */
  private standInImage: string | undefined;
  private readonly docker: Docker;
  private readonly log: (m: string) => void;

  constructor(private readonly opts: EngineProviderOptions) {
    this.docker = opts.docker;
    this.log = opts.log ?? (() => undefined);
  }

  newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const p = this.create(args).catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      this.failures.push({ resource: args.name, error });
      this.log(`${args.name} failed: ${error.message}`);
      throw error;
    });
    this.pending.add(p);
    void p.catch(() => undefined).finally(() => this.pending.delete(p));
    return p;
  }

  /**
   * Resolves once no registration is in flight and none has started for `quietMs` (the program
   * registers the next resources as the previous ones resolve).
   */
  async idle(quietMs = 1000): Promise<void> {
    for (;;) {
      while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      await sleep(quietMs);
      if (this.pending.size === 0) return;
    }
  }

  private async create(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    // A component resource is only a grouping: nothing to create.
    if (args.custom === false) return { id: args.name, state: args.inputs };
    const inputs = unwrapSecrets(args.inputs) as Inputs;
    const started = Date.now();
    // Records the object and answers how long it took (for the log line).
    const done = (kind: EngineObject["kind"], name: string, id: string): number => {
      const ms = Date.now() - started;
      this.created.push({ kind, name, id, resource: args.name, ms });
      return ms;
    };
    switch (args.type) {
      case "docker:index/network:Network": {
        const ipam = asList<{ subnet?: string; ipRange?: string; gateway?: string }>(inputs.ipamConfigs);
        const net = await this.docker.createNetwork({
          Name: String(inputs.name),
          Driver: (inputs.driver as string | undefined) ?? "bridge",
          IPAM: {
            Driver: "default",
            Config: ipam.map((c) => ({ Subnet: c.subnet, IPRange: c.ipRange, Gateway: c.gateway })),
          },
          Labels: ownedBy(this.opts.owner),
        });
        done("network", String(inputs.name), net.id);
        return { id: net.id, state: { ...args.inputs, name: inputs.name } };
      }
      case "docker:index/volume:Volume": {
        const name = String(inputs.name ?? args.name);
        await this.docker.createVolume({ Name: name, Labels: ownedBy(this.opts.owner) });
        done("volume", name, name);
        return { id: name, state: { ...args.inputs, name } };
      }
      case "docker:index/remoteImage:RemoteImage":
      case "docker:index/image:Image": {
        const standIn = this.opts.objectStoreStandIn;
        if (standIn && args.type === "docker:index/remoteImage:RemoteImage" && inputs.name === standIn.image) {
          // A second image of that name would turn its containers into s3rver too.
          if (this.standInImage !== undefined && this.standInImage !== args.name)
            throw new Error(
              `objectStoreStandIn.image ${standIn.image}: named by ${this.standInImage} and ${args.name}`,
            );
          this.standInImage = args.name;
          const id = standInImageId(standIn.image);
          return { id, state: { ...args.inputs, imageId: id, repoDigest: id } };
        }
        const ref = this.opts.resolveImage
          ? await this.opts.resolveImage(args.type, inputs)
          : String(inputs.name ?? inputs.imageName);
        const info = await this.docker
          .getImage(ref)
          .inspect()
          .catch(() => {
            throw new Error(`${args.name}: no image ${ref} on the Engine (there is no registry to pull from here)`);
          });
        // A local image has no registry digest: its id, as the provider gives a local build (and the Engine runs by id).
        const digest = info.RepoDigests?.[0] ?? info.Id;
        return { id: info.Id, state: { ...args.inputs, imageId: info.Id, repoDigest: digest, imageName: ref } };
      }
      case "docker:index/container:Container":
        return this.container(args, inputs, done);
      default:
        // Component resources never reach here; anything else is not part of the Docker target.
        throw new Error(`the engine provider does not create ${args.type} (${args.name})`);
    }
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    return args.inputs;
  }

  /** Wait until `image` exists on the Engine (up to 20 minutes: a cold services build takes minutes). */
  private async imageBuilt(image: string, forContainer: string): Promise<void> {
    const deadline = Date.now() + 20 * 60_000;
    while (
      !(await this.docker
        .getImage(image)
        .inspect()
        .then(
          () => true,
          () => false,
        ))
    ) {
      if (Date.now() > deadline) throw new Error(`${forContainer}: the stand-in's image ${image} never appeared`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  private async container(
    args: pulumi.runtime.MockResourceArgs,
    inputs: Inputs,
    done: (kind: EngineObject["kind"], name: string, id: string) => number,
  ): Promise<pulumi.runtime.MockResourceResult> {
    const name = String(inputs.name);
    const image = String(inputs.image);
    const standIn = this.opts.objectStoreStandIn;
    const isStandIn = standIn && (image === standInImageId(standIn.image) || image === standIn.image);
    // The stand-in runs an image the same deployment may still be building (the services image):
    // nothing in the program orders the object store after it, so the stand-in waits for it here.
    if (isStandIn) await this.imageBuilt(standIn.runImage, name);
    const create = isStandIn
      ? standInCreateOptions(inputs, standIn, this.opts.owner)
      : containerCreateOptions(inputs, image, this.opts.owner);
    const container = await this.docker.createContainer(create);
    const networks = asList<{ name: string; aliases?: string[]; ipv4Address?: string }>(inputs.networksAdvanced);
    for (const n of networks.slice(1))
      await this.docker.getNetwork(n.name).connect({
        Container: container.id,
        EndpointConfig: {
          Aliases: n.aliases,
          ...(n.ipv4Address ? { IPAMConfig: { IPv4Address: n.ipv4Address } } : {}),
        },
      });
    const uploads = asList<{ file: string; content?: string; contentBase64?: string; executable?: boolean }>(
      inputs.uploads,
    );
    if (uploads.length)
      await container.putArchive(uploadsTar(uploads) as unknown as NodeJS.ReadableStream, { path: "/" });
    const state: Inputs = { ...args.inputs, name };
    if (inputs.start === false) {
      done("container", name, container.id);
      return { id: container.id, state };
    }
    await container.start();
    if (inputs.attach === true) {
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      const logs = demuxLogs(raw).all.slice(-(this.opts.maxLogBytes ?? 64 * 1024));
      this.jobs.set(name, { exitCode: StatusCode, logs });
      const ms = done("container", name, container.id);
      this.log(`${name} exited ${StatusCode} after ${ms} ms`);
      return {
        id: container.id,
        state: { ...state, exitCode: StatusCode, ...(inputs.logs === true ? { containerLogs: logs } : {}) },
      };
    }
    if (inputs.wait === true) await this.waitHealthy(container, name, Number(inputs.waitTimeout ?? 60) * 1000);
    else if (inputs.mustRun === true) {
      const info = await container.inspect();
      if (!info.State.Running) throw new Error(`${name}: not running after its start (${info.State.Status})`);
    }
    const ms = done("container", name, container.id);
    this.log(`${name} ${inputs.wait === true ? "healthy" : "started"} in ${ms} ms`);
    return { id: container.id, state };
  }

  private async waitHealthy(container: Docker.Container, name: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await container.inspect();
      const health = info.State.Health?.Status;
      if (!info.State.Running || health === "unhealthy" || Date.now() > deadline) {
        const raw = (await container.logs({ stdout: true, stderr: true, tail: 20 })) as unknown as Buffer;
        const why = !info.State.Running
          ? `exited ${info.State.ExitCode}`
          : health === "unhealthy"
            ? "unhealthy"
            : `not healthy within ${timeoutMs} ms`;
        throw new Error(`container ${name} ${why}; its last log lines:\n${demuxLogs(raw).all}`);
      }
      // No healthcheck: running is as healthy as the provider can tell.
      if (health === undefined || health === "healthy") return;
      await sleep(500);
    }
  }

  /** Remove every container, volume and network this provider made, newest first. */
  async remove(): Promise<void> {
    await removeLabelled(this.docker, this.opts.owner);
    this.created.length = 0;
  }
}

/** Remove every container, volume and network `owner` made (this run's or a crashed one's). */
export async function removeLabelled(docker: Docker, owner: string): Promise<number> {
  const filters = { label: [`${ENGINE_TEST_LABEL}=${owner}`] };
  let n = 0;
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(c.Id).remove({ force: true, v: true });
    n++;
  }
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) {
    await docker.getVolume(v.Name).remove({ force: true });
    n++;
  }
  for (const net of await docker.listNetworks({ filters })) {
    await docker.getNetwork(net.Id).remove();
    n++;
  }
  return n;
}

/** Run a Pulumi program under the engine provider: `program` registers its resources; resolves when all are done. */
export async function deployOnEngine<T>(
  provider: EngineProvider,
  program: () => T,
  project = "floodgate",
  stack = "engine-test",
): Promise<T> {
  await pulumi.runtime.setMocks(provider, project, stack, false);
  return program();
}

/**
 * Run `program` under the engine provider as this process's whole job, as the Pulumi language host
 * runs a program: each error of a failed registration or apply goes to stderr once (a failed
 * apply rejects every Output built on it, unhandled), the record — what was created, how each job
 * ended, `extra()` — is the last stdout line as JSON, and the exit code is 1 when anything failed.
 */
export function runAsProgram<T>(
  provider: EngineProvider,
  program: () => T,
  extra: (result: T) => Record<string, unknown> = () => ({}),
  quietMs = 1000,
): void {
  const errors = new Set<string>();
  process.on("unhandledRejection", (err) => {
    const message = err instanceof Error ? err.message : String(err);
    if (!errors.has(message)) process.stderr.write(`error: ${message}\n`);
    errors.add(message);
  });
  void (async () => {
    const started = Date.now();
    const result = await deployOnEngine(provider, program);
    await provider.idle(quietMs);
    const record = {
      seconds: (Date.now() - started) / 1000,
      created: provider.created,
      jobs: Object.fromEntries(provider.jobs),
      failures: provider.failures.map((f) => `${f.resource}: ${f.error.message}`),
      ...extra(result),
    };
    process.stdout.write(`${JSON.stringify(record)}\n`);
    process.exit(errors.size > 0 || provider.failures.length > 0 ? 1 : 0);
  })().catch((err: unknown) => {
    // The program itself threw (e.g. an invalid stack config): a failed run, as `pulumi up` fails.
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
