import * as pulumi from "@pulumi/pulumi";
import type { Topology } from "./topology";

/**
 * The contract between the stack configuration (`config.ts`), the wiring (`index.ts`) and the two
 * targets (`docker/`, `kubernetes/`): both targets take a DeployConfig and return StackOutputs.
 */

/** Topology fields that are secrets, by the name the stack config uses (`pulumi config set --secret <name>`). */
export const TOPOLOGY_SECRETS = {
  jwtSecret: ["api", "jwtSecret"],
  adminPassword: ["api", "admin", "password"],
  mysqlAppPassword: ["mysql", "users", "app", "password"],
  mysqlMigratorPassword: ["mysql", "users", "migrator", "password"],
  mysqlReplicationPassword: ["mysql", "users", "replication", "password"],
  mysqlBackupPassword: ["mysql", "users", "backup", "password"],
  mysqlExporterPassword: ["mysql", "users", "exporter", "password"],
  redisAppPassword: ["redis", "users", "app", "password"],
  redisReplicationPassword: ["redis", "users", "replication", "password"],
  redisAdminPassword: ["redis", "users", "admin", "password"],
  redisExporterPassword: ["redis", "users", "exporter", "password"],
  rabbitmqAppPassword: ["rabbitmq", "users", "app", "password"],
  rabbitmqAdminPassword: ["rabbitmq", "users", "admin", "password"],
} as const satisfies Record<string, readonly string[]>;

/** Secrets only a deployment has (the local stack needs none of them). */
export const DEPLOYMENT_SECRETS = [
  "mysqlRootPassword",
  "rabbitmqErlangCookie",
  "bucketAccessKey",
  "bucketSecretKey",
  "monitoringPassword",
] as const;

/** One secret's name in the stack config. */
export type SecretName = keyof typeof TOPOLOGY_SECRETS | (typeof DEPLOYMENT_SECRETS)[number];

/** Upstream images, pinned by version in the stack config. */
export interface Images {
  /** The floodgate services image (images/Dockerfile's `services` target). */
  app: string;
  mariadb: string;
  redis: string;
  rabbitmq: string;
  nginx: string;
  prometheus: string;
  alertmanager: string;
  /** The S3-compatible object store behind the static bucket. */
  objectStore: string;
  mysqldExporter: string;
  redisExporter: string;
  nginxExporter: string;
  nodeExporter: string;
}

/** Everything a target needs: the validated topology plus what only a deployment knows. */
export interface DeployConfig {
  target: "docker" | "kubernetes";
  /**
   * The validated topology. Its secret fields hold placeholders: render anything containing a
   * secret inside `pulumi.all(secrets).apply(...)` with `withSecrets`, so the result stays secret.
   */
  topology: Topology;
  /** Every secret, each a Pulumi secret Output (from `config.requireSecret`). */
  secrets: Record<SecretName, pulumi.Output<string>>;
  images: Images;
  /**
   * Docker target: build every floodgate image (all but the object store) from images/Dockerfile on
   * the Docker host under its configured name (true), or pull each as published (false).
   */
  buildImages: boolean;
  /** The Debian bookworm image the built images start from (images/Dockerfile's BASE_IMAGE). */
  baseImage: string;
  /** Host name or address clients use to reach nginx; used in the exported URLs. */
  publicHost: string;
  /** Published port of nginx (the only public entry). */
  publicPort: number;
  /** When set, Prometheus and Alertmanager are published on this port and the next (admin access). */
  adminPort?: number;
  /** Address the admin port binds on the host (Docker) when `adminPort` is set; defaults to 127.0.0.1. */
  adminBindHost?: string;
  /** Kubernetes: the addresses (CIDRs) the admin LoadBalancer admits; required with `adminPort`. */
  adminSourceRanges?: string[];
  /** Docker target only. */
  docker: {
    /** Private network every container joins. */
    network: string;
    /** The private network's IPv4 subnet (a /16); stateful containers get fixed addresses in it. Default 172.28.0.0/16. */
    subnet?: string;
  };
  /** Kubernetes target only. */
  kubernetes: {
    namespace: string;
    storageClass: string;
    /** An existing image pull Secret (kubernetes.io/dockerconfigjson) in the namespace every pod names, for a private registry. */
    imagePullSecret?: string;
    /** Let `pulumi destroy` delete the namespace and with it every claim; by default it keeps them. */
    deleteVolumesOnDestroy: boolean;
    /** Volume sizes in GiB. */
    volumeGi: { mysql: number; redis: number; rabbitmq: number; bucket: number; prometheus: number };
  };
}

/** What `pulumi up` exports, on either target. */
export interface StackOutputs {
  apiUrl: pulumi.Output<string>;
  staticUrl: pulumi.Output<string>;
  prometheusUrl: pulumi.Output<string>;
  alertmanagerUrl: pulumi.Output<string>;
}

/**
 * Every secret's value by its name, as one secret Output: what `pulumi.all(secrets)` resolves to,
 * typed by the names (its record overload types the keys as any string, each value maybe absent).
 */
export function secretValues(secrets: DeployConfig["secrets"]): pulumi.Output<Record<SecretName, string>> {
  // The same record, every key resolved: only the overload's typing is widened.
  return pulumi.all(secrets) as pulumi.Output<Record<SecretName, string>>;
}

/** A copy of the topology with the secrets' real values in place of the placeholders (pure). */
export function withSecrets(t: Topology, values: Partial<Record<SecretName, string>>): Topology {
  // A JSON copy, not structuredClone: under jest's vm realm structuredClone returns foreign-realm
  // arrays, which Pulumi's output unwrapping (`instanceof Array`) turns into plain objects.
  const copy = JSON.parse(JSON.stringify(t)) as Topology;
  for (const [name, path] of Object.entries(TOPOLOGY_SECRETS)) {
    const value = values[name as SecretName];
    if (value === undefined) continue;
    const leaf = path.at(-1);
    if (leaf === undefined) throw new Error(`TOPOLOGY_SECRETS.${name} names no field`);
    let node = copy as unknown as Record<string, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[leaf] = value;
  }
  return copy;
}
