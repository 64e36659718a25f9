import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DEPLOYMENT_SECRETS, TOPOLOGY_SECRETS, type DeployConfig, type Images, type SecretName } from "./deployment";
import { parseTopology, TopologyError, type TopologyInput } from "./topology";

/** The stack's plain (non-secret) config values, keyed without the `floodgate:` prefix. */
export type RawStackConfig = Record<string, unknown>;

/** A stack config that failed validation; each problem names the `floodgate:` key and its value. */
export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack config:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/** floodgate's release: the tag of the images it builds (`npm run images` tags them the same by default). */
export const RELEASE: string = (
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as {
    version: string;
  }
).version;

/**
 * The images/Dockerfile target each image key is built from (every key but the object store, which
 * Debian does not package).
 */
export const IMAGE_TARGETS: Record<Exclude<keyof Images, "objectStore">, string> = {
  app: "services",
  mariadb: "mariadb",
  redis: "redis",
  rabbitmq: "rabbitmq",
  nginx: "nginx",
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  mysqldExporter: "mysqld-exporter",
  redisExporter: "redis-exporter",
  nginxExporter: "nginx-exporter",
  nodeExporter: "node-exporter",
};

/** The user an image runs as: its name in the image and the fixed ids Kubernetes pods run it with. */
export interface ImageUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The user of each Debian-built image, by image key. images/Dockerfile creates these users with
 * these ids before installing any package (a system user's id would otherwise be whatever was free
 * at install time); the Kubernetes pods run each container with them (runAsUser, runAsGroup, and
 * fsGroup so a new volume is the server's to write), and test/docker/images.docker.test.ts checks
 * every built image against this table. www-data's 33 is Debian's own fixed id.
 */
export const IMAGE_USERS: Record<keyof typeof IMAGE_TARGETS, ImageUser> = {
  app: { name: "node", uid: 1000, gid: 1000 },
  mariadb: { name: "mysql", uid: 901, gid: 901 },
  redis: { name: "redis", uid: 902, gid: 902 },
  rabbitmq: { name: "rabbitmq", uid: 903, gid: 903 },
  nginx: { name: "www-data", uid: 33, gid: 33 },
  prometheus: { name: "prometheus", uid: 904, gid: 904 },
  alertmanager: { name: "prometheus", uid: 904, gid: 904 },
  mysqldExporter: { name: "prometheus", uid: 904, gid: 904 },
  redisExporter: { name: "prometheus", uid: 904, gid: 904 },
  nginxExporter: { name: "prometheus", uid: 904, gid: 904 },
  nodeExporter: { name: "prometheus", uid: 904, gid: 904 },
};

/** SeaweedFS, the object store: no Debian package, so the one upstream image either target runs, pinned. */
export const OBJECT_STORE_IMAGE = "chrislusf/seaweedfs:3.80";

/** Every Debian-built image under its local name, floodgate/<target>:<release>, plus the pinned object store. */
const DEBIAN_BUILT_IMAGES: Images = {
  ...(Object.fromEntries(
    Object.entries(IMAGE_TARGETS).map(([key, target]) => [key, `floodgate/${target}:${RELEASE}`]),
  ) as Record<keyof typeof IMAGE_TARGETS, string>),
  objectStore: OBJECT_STORE_IMAGE,
};

/**
 * The images each target runs unless the stack names others (`floodgate:<key>Image`): on both, every
 * component built from Debian's packages by images/Dockerfile — the packages the local stack and
 * every local test run — named floodgate/<target>:<release>, and SeaweedFS pinned.
 * - Docker: `pulumi up` builds them on the Docker host under these names (`buildImages`).
 * - Kubernetes: a cluster pulls them from a registry, so these names are placeholders to override:
 *   `npm run images -- --push REGISTRY --tag T` pushes REGISTRY/floodgate-<target>:T, and the stack
 *   sets each `floodgate:<key>Image` to it (docs/operations.md, "3. Images"). The pod specs follow these
 *   images' layouts (paths, commands, users: IMAGE_USERS); an upstream image will not fit them.
 */
export const TARGET_IMAGE_DEFAULTS: Record<DeployConfig["target"], Images> = {
  docker: DEBIAN_BUILT_IMAGES,
  kubernetes: DEBIAN_BUILT_IMAGES,
};

/** The stack config key of each image: `floodgate:<name>Image`. */
export const imageKey = (name: keyof Images) => `${name}Image`;

/** Topology defaults per target, under whatever `floodgate:topology` sets: a deployment has more memory than a laptop. */
export const TARGET_TOPOLOGY_DEFAULTS: Record<DeployConfig["target"], TopologyInput> = {
  docker: { mysql: { bufferPoolMb: 1024 }, redis: { maxMemoryMb: 512 } },
  kubernetes: {
    api: { replicas: 3 },
    autoscaling: { minReplicas: 3, maxReplicas: 12 },
    mysql: { bufferPoolMb: 1024 },
    redis: { maxMemoryMb: 512 },
    // A cluster of three: quorum queues keep every confirmed message through one node's loss.
    rabbitmq: { nodes: 3 },
  },
};

const hostName = z.string().regex(/^[A-Za-z0-9.-]+$/, { error: "a host name or IPv4 address" });
const tcpPort = z.number().int().min(1).max(65535);
const imageRef = z.string().regex(/^([a-z0-9.-]+(:\d+)?\/)?[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$/, {
  error: "an image reference pinned by tag or digest (repo:tag)",
});
const pinnedImage = imageRef.refine((ref) => /:[^/]+$|@sha256:/.test(ref) && !/:latest$/.test(ref), {
  error: "pin the image by version (a tag other than latest, or a digest)",
});
const imageFields = Object.fromEntries(
  (Object.keys(TARGET_IMAGE_DEFAULTS.docker) as Array<keyof Images>).map((name) => [
    imageKey(name),
    // No schema default: the default depends on the target (TARGET_IMAGE_DEFAULTS).
    pinnedImage.optional(),
  ]),
) as Record<string, z.ZodOptional<typeof pinnedImage>>;

/** The plain stack config, every key with its default. Secrets are not here: they come from `requireSecret`. */
export const StackConfigSchema = z.strictObject({
  target: z.enum(["docker", "kubernetes"]).default("docker"),
  topology: z.record(z.string(), z.unknown()).default({}),
  buildImages: z.boolean().default(true),
  baseImage: imageRef.default("debian:bookworm-slim"),
  publicHost: hostName.default("localhost"),
  publicPort: tcpPort.default(80),
  adminPort: tcpPort.optional(),
  adminBindHost: hostName.default("127.0.0.1"),
  dockerNetwork: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,62}$/)
    .default("floodgate"),
  dockerSubnet: z
    .string()
    .regex(/^10\.\d{1,3}\.0\.0\/16$|^172\.(1[6-9]|2\d|3[01])\.0\.0\/16$|^192\.168\.0\.0\/16$/, {
      error: "a private /16, e.g. 172.28.0.0/16",
    })
    .default("172.28.0.0/16"),
  kubernetesNamespace: z
    .string()
    // 58 at most: the node exporter's namespace is this one with "-host" (kubernetes/addresses.ts).
    .regex(/^[a-z0-9]([-a-z0-9]{0,56}[a-z0-9])?$/, { error: "a DNS label of at most 58 characters" })
    .default("floodgate"),
  kubernetesStorageClass: z.string().min(1).default("standard"),
  kubernetesImagePullSecret: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, { error: "the name of a Secret in the namespace" })
    .optional(),
  kubernetesDeleteVolumesOnDestroy: z.boolean().default(false),
  adminSourceRanges: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}(,\d{1,3}(\.\d{1,3}){3}\/\d{1,2})*$/, {
      error: "comma-separated IPv4 CIDRs, e.g. 203.0.113.0/24,198.51.100.7/32",
    })
    .optional(),
  volumeGiMysql: z.number().int().min(1).default(20),
  volumeGiRedis: z.number().int().min(1).default(5),
  volumeGiRabbitmq: z.number().int().min(1).default(5),
  volumeGiBucket: z.number().int().min(1).default(20),
  volumeGiPrometheus: z.number().int().min(1).default(20),
  ...imageFields,
});

/** How `index.ts` reads each key from `pulumi.Config` (its type in Pulumi.yaml). */
export const STACK_CONFIG_KEYS: Record<string, "string" | "number" | "boolean" | "object"> = Object.fromEntries(
  Object.entries(StackConfigSchema.shape).map(([key, schema]) => {
    const kind = schema.unwrap?.().type ?? schema.type;
    const read =
      kind === "number" ? "number" : kind === "boolean" ? "boolean" : kind === "record" ? "object" : "string";
    return [key, read];
  }),
);

/** Every secret's config name, topology and deployment ones alike. */
export const SECRET_NAMES = [...Object.keys(TOPOLOGY_SECRETS), ...DEPLOYMENT_SECRETS] as SecretName[];

/** What a secret field holds in the validated topology until `withSecrets` puts the real value in. */
export function secretPlaceholder(name: SecretName): string {
  // 32+ characters so the JWT secret's minimum length holds; none of the characters renderers reject.
  return `floodgate-placeholder-${name}-0000000000`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `over` merged onto `base`, objects key by key; arrays and scalars replace. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function valueAt(obj: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, k) => (isPlainObject(node) ? node[k] : undefined), obj);
}

function secretsInPlainConfig(raw: RawStackConfig): string[] {
  const asKeys = SECRET_NAMES.filter((name) => name in raw).map(
    (name) => `floodgate:${name} is a secret: set it with \`pulumi config set --secret ${name}\`, not as plain config`,
  );
  const inTopology = Object.entries(TOPOLOGY_SECRETS)
    .filter(([, path]) => valueAt(raw.topology, path) !== undefined)
    .map(
      ([name, path]) =>
        `floodgate:topology.${path.join(".")} is a secret: remove it and run \`pulumi config set --secret ${name}\``,
    );
  return [...asKeys, ...inTopology];
}

const shown = (v: unknown) => (v === undefined ? "unset" : JSON.stringify(v));

/** Stack config (plain values) and secrets (Pulumi secret Outputs) to a validated DeployConfig. Pure. */
export function parseStackConfig(raw: RawStackConfig, secrets: Record<SecretName, unknown>): DeployConfig {
  const leaked = secretsInPlainConfig(raw);
  if (leaked.length > 0) throw new StackConfigError(leaked);
  const missing = SECRET_NAMES.filter((name) => secrets[name] === undefined);
  if (missing.length > 0) {
    throw new StackConfigError(missing.map((n) => `floodgate:${n} is unset: \`pulumi config set --secret ${n}\``));
  }
  const parsed = StackConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StackConfigError(
      parsed.error.issues.flatMap((issue) => {
        if (issue.code === "unrecognized_keys") {
          return issue.keys.map((k) => `floodgate:${k} = ${shown(raw[k])}: not a floodgate config key`);
        }
        const path = issue.path.map(String);
        return [`floodgate:${path.join(".")} = ${shown(valueAt(raw, path))}: ${issue.message}`];
      }),
    );
  }
  const c = parsed.data;
  if (c.target === "kubernetes" && c.adminPort !== undefined && c.adminSourceRanges === undefined) {
    throw new StackConfigError([
      `floodgate:adminSourceRanges is unset: with floodgate:adminPort = ${c.adminPort} on Kubernetes the admin UIs ` +
        "get a public load balancer, so name the addresses that may reach it (e.g. 203.0.113.0/24)",
    ]);
  }
  const placeholders = Object.fromEntries(SECRET_NAMES.map((n) => [n, secretPlaceholder(n)]));
  let topologyInput = deepMerge(TARGET_TOPOLOGY_DEFAULTS[c.target], c.topology);
  for (const [name, path] of Object.entries(TOPOLOGY_SECRETS)) {
    topologyInput = deepMerge(
      topologyInput,
      path.reduceRight<unknown>((v, k) => ({ [k]: v }), placeholders[name]),
    );
  }
  let topology;
  try {
    topology = parseTopology(topologyInput);
  } catch (err) {
    if (err instanceof TopologyError) throw new StackConfigError(err.problems.map((p) => `floodgate:topology.${p}`));
    throw err;
  }
  const defaults = TARGET_IMAGE_DEFAULTS[c.target];
  const images = Object.fromEntries(
    (Object.keys(defaults) as Array<keyof Images>).map((name) => [
      name,
      ((c as Record<string, unknown>)[imageKey(name)] as string | undefined) ?? defaults[name],
    ]),
  ) as unknown as Images;
  return {
    target: c.target,
    topology,
    secrets: secrets as DeployConfig["secrets"],
    images,
    buildImages: c.buildImages,
    baseImage: c.baseImage,
    publicHost: c.publicHost,
    publicPort: c.publicPort,
    adminPort: c.adminPort,
    adminBindHost: c.adminBindHost,
    adminSourceRanges: c.adminSourceRanges?.split(","),
    docker: { network: c.dockerNetwork, subnet: c.dockerSubnet },
    kubernetes: {
      namespace: c.kubernetesNamespace,
      storageClass: c.kubernetesStorageClass,
      imagePullSecret: c.kubernetesImagePullSecret,
      deleteVolumesOnDestroy: c.kubernetesDeleteVolumesOnDestroy,
      volumeGi: {
        mysql: c.volumeGiMysql,
        redis: c.volumeGiRedis,
        rabbitmq: c.volumeGiRabbitmq,
        bucket: c.volumeGiBucket,
        prometheus: c.volumeGiPrometheus,
      },
    },
  };
}
