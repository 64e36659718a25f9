import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import {
  TARGET_IMAGE_DEFAULTS,
  IMAGE_TARGETS,
  IMAGE_USERS,
  RELEASE,
  imageKey,
  parseStackConfig,
  SECRET_NAMES,
  secretPlaceholder,
  STACK_CONFIG_KEYS,
  StackConfigError,
  StackConfigSchema,
  TARGET_TOPOLOGY_DEFAULTS,
  type RawStackConfig,
} from "./config";
import { TOPOLOGY_SECRETS, type SecretName } from "./deployment";
import { present } from "../test/support/checked";
import { readStackFile, REPO_ROOT } from "../test/support/stack-config";
import { parseTopology } from "./topology";

// parseStackConfig never looks inside the secret values; tokens stand in for requireSecret's Outputs.
const secrets = Object.fromEntries(SECRET_NAMES.map((n) => [n, { token: n }])) as Record<SecretName, unknown>;
const parse_ = (raw: RawStackConfig) => parseStackConfig(raw, secrets);
const problems = (raw: RawStackConfig, s = secrets): string[] => {
  try {
    parseStackConfig(raw, s);
  } catch (err) {
    if (err instanceof StackConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a StackConfigError");
};

describe("parseStackConfig defaults", () => {
  it.each([
    ["no target", {}, "docker"],
    ["docker", { target: "docker" }, "docker"],
    ["kubernetes", { target: "kubernetes" }, "kubernetes"],
  ] as const)("selects the target (%s)", (_label, raw, target) => {
    expect(parse_(raw).target).toBe(target);
  });

  it.each([
    ["publicHost", (c: ReturnType<typeof parse_>) => c.publicHost, "localhost"],
    ["publicPort", (c: ReturnType<typeof parse_>) => c.publicPort, 80],
    ["adminPort", (c: ReturnType<typeof parse_>) => c.adminPort, undefined],
    ["adminBindHost", (c: ReturnType<typeof parse_>) => c.adminBindHost, "127.0.0.1"],
    ["buildImages", (c: ReturnType<typeof parse_>) => c.buildImages, true],
    ["dockerNetwork", (c: ReturnType<typeof parse_>) => c.docker.network, "floodgate"],
    ["dockerSubnet", (c: ReturnType<typeof parse_>) => c.docker.subnet, "172.28.0.0/16"],
    ["kubernetesNamespace", (c: ReturnType<typeof parse_>) => c.kubernetes.namespace, "floodgate"],
    ["kubernetesStorageClass", (c: ReturnType<typeof parse_>) => c.kubernetes.storageClass, "standard"],
    ["volumeGiMysql", (c: ReturnType<typeof parse_>) => c.kubernetes.volumeGi.mysql, 20],
    ["mariadbImage", (c: ReturnType<typeof parse_>) => c.images.mariadb, "floodgate/mariadb:" + RELEASE],
  ])("defaults %s", (_key, read, expected) => {
    expect(read(parse_({}))).toEqual(expected);
  });

  it.each(["docker", "kubernetes"] as const)(
    "runs the Debian-built images on %s, SeaweedFS pinned, unless the stack names others",
    (target) => {
      const images = parse_({ target }).images;
      for (const [key, dockerfileTarget] of Object.entries(IMAGE_TARGETS)) {
        expect([key, images[key as keyof typeof images]]).toEqual([key, `floodgate/${dockerfileTarget}:${RELEASE}`]);
      }
      expect(images.objectStore).toBe("chrislusf/seaweedfs:3.80");
      expect(images).toEqual(TARGET_IMAGE_DEFAULTS[target]);
      expect(parse_({ target, nginxImage: "reg.example/floodgate-nginx:2" }).images.nginx).toBe(
        "reg.example/floodgate-nginx:2",
      );
    },
  );

  it("names one user, with ids, for every Debian-built image, root for none", () => {
    expect(Object.keys(IMAGE_USERS).sort()).toEqual(Object.keys(IMAGE_TARGETS).sort());
    for (const [key, user] of Object.entries(IMAGE_USERS)) {
      expect([key, user.uid > 0 && user.gid > 0]).toEqual([key, true]);
    }
    // One user name, one id: the images sharing the prometheus user agree on it.
    const byName = new Map<string, string>();
    for (const u of Object.values(IMAGE_USERS)) {
      const ids = `${u.uid}:${u.gid}`;
      expect([u.name, byName.get(u.name) ?? ids]).toEqual([u.name, ids]);
      byName.set(u.name, ids);
    }
  });

  it("refuses admin UIs published on Kubernetes without the addresses that may reach them", () => {
    expect(problems({ target: "kubernetes", adminPort: 9090 })).toEqual([
      expect.stringMatching(/^floodgate:adminSourceRanges is unset: with floodgate:adminPort = 9090 on Kubernetes/),
    ]);
    expect(problems({ target: "kubernetes", adminPort: 9090, adminSourceRanges: "10.0.0.0/8,bad" })).toEqual([
      expect.stringMatching(/^floodgate:adminSourceRanges = "10.0.0.0\/8,bad": comma-separated IPv4 CIDRs/),
    ]);
    const c = parse_({ target: "kubernetes", adminPort: 9090, adminSourceRanges: "10.0.0.0/8,192.0.2.1/32" });
    expect(c.adminSourceRanges).toEqual(["10.0.0.0/8", "192.0.2.1/32"]);
    // One host's admin ports bind to adminBindHost (127.0.0.1 by default) instead.
    expect(parse_({ target: "docker", adminPort: 9090 }).adminSourceRanges).toBeUndefined();
  });

  it("takes a stack's own image over the target's default, pinned", () => {
    expect(parse_({ target: "docker", redisImage: "reg.example/r:1" }).images.redis).toBe("reg.example/r:1");
    expect(() => parse_({ target: "docker", redisImage: "redis:latest" })).toThrow(/floodgate:redisImage/);
  });

  it.each(["docker", "kubernetes"] as const)(
    "applies the %s topology defaults under the stack's own topology",
    (target) => {
      const defaults = TARGET_TOPOLOGY_DEFAULTS[target];
      const t = parse_({ target }).topology;
      expect(t.mysql.bufferPoolMb).toBe(defaults.mysql?.bufferPoolMb);
      expect(parse_({ target, topology: { mysql: { bufferPoolMb: 64 } } }).topology.mysql.bufferPoolMb).toBe(64);
      // Untouched fields keep the topology schema's own defaults.
      expect(t.rabbitmq.queues).toEqual(parseTopology({}).rabbitmq.queues);
      expect(t.api.tokenTtlSeconds).toBe(parseTopology({}).api.tokenTtlSeconds);
    },
  );

  it("fills every secret field of the topology with its placeholder and passes the secrets through", () => {
    const c = parse_({});
    for (const [name, p] of Object.entries(TOPOLOGY_SECRETS)) {
      const value = p.reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], c.topology);
      expect([name, value]).toEqual([name, secretPlaceholder(name as SecretName)]);
    }
    expect(c.secrets).toBe(secrets);
    expect(secretPlaceholder("jwtSecret").length).toBeGreaterThanOrEqual(32);
  });
});

describe("parseStackConfig rejects bad values, naming the key and the value", () => {
  it.each([
    [{ target: "nomad" }, 'floodgate:target = "nomad"'],
    [{ publicPort: "http" }, 'floodgate:publicPort = "http"'],
    [{ publicPort: 70000 }, "floodgate:publicPort = 70000"],
    [{ adminPort: 0 }, "floodgate:adminPort = 0"],
    [{ publicHost: "shop example" }, 'floodgate:publicHost = "shop example"'],
    [{ dockerSubnet: "8.8.0.0/16" }, 'floodgate:dockerSubnet = "8.8.0.0/16"'],
    [{ kubernetesNamespace: "Prod_NS" }, 'floodgate:kubernetesNamespace = "Prod_NS"'],
    [{ redisImage: "redis" }, 'floodgate:redisImage = "redis": pin the image by version'],
    [{ nginxImage: "nginx:latest" }, 'floodgate:nginxImage = "nginx:latest": pin the image by version'],
    [{ replicas: 3 }, "floodgate:replicas = 3: not a floodgate config key"],
    [{ topology: { api: { replicas: 0 } } }, "floodgate:topology.api.replicas = 0"],
    [{ topology: { redis: { masters: 2 } } }, "floodgate:topology.redis.masters = 2"],
    [
      { topology: { autoscaling: { minReplicas: 9, maxReplicas: 3 } } },
      "floodgate:topology.autoscaling.minReplicas = 9",
    ],
  ])("%j", (raw, message) => {
    expect(problems(raw).join("\n")).toContain(message);
  });

  it("accepts an image pinned by digest or on a registry with a port", () => {
    const digest = `redis@sha256:${"c".repeat(64)}`;
    expect(parse_({ redisImage: digest }).images.redis).toBe(digest);
    expect(parse_({ appImage: "registry.local:5000/fg/services:1.2.3" }).images.app).toBe(
      "registry.local:5000/fg/services:1.2.3",
    );
  });
});

describe("secrets never come from plain config", () => {
  it.each(SECRET_NAMES)("rejects %s set as a plain config value", (name) => {
    expect(problems({ [name]: "hunter2" })).toEqual([expect.stringContaining(`floodgate:${name} is a secret`)]);
  });

  it.each(Object.entries(TOPOLOGY_SECRETS))("rejects %s inside floodgate:topology", (name, p) => {
    const topology = p.reduceRight<unknown>((v, k) => ({ [k]: v }), "hunter2") as Record<string, unknown>;
    const found = problems({ topology });
    expect(found).toEqual([expect.stringContaining(`floodgate:topology.${p.join(".")} is a secret`)]);
    expect(found.join("")).not.toContain("hunter2");
  });

  it.each(SECRET_NAMES)("requires %s among the secrets", (name) => {
    const without = { ...secrets, [name]: undefined };
    expect(problems({}, without)).toEqual([expect.stringContaining(`floodgate:${name} is unset`)]);
  });
});

describe("Pulumi.yaml and the example stacks", () => {
  const project = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as {
    runtime: unknown;
    main: string;
    config: Record<string, { type: string; default?: unknown; secret?: boolean; description?: string }>;
  };

  const declared = (key: string) => present(project.config[key], `Pulumi.yaml's declaration of ${key}`);

  it("points at the program", () => {
    expect(fs.existsSync(path.join(REPO_ROOT, project.main))).toBe(true);
  });

  it.each(Object.entries(STACK_CONFIG_KEYS).filter(([k]) => k !== "topology"))(
    "declares %s with its type, a description and the schema's default",
    (key, kind) => {
      const decl = declared(key);
      expect(decl.type).toBe({ number: "integer", boolean: "boolean", string: "string" }[kind as string]);
      expect(decl.description?.length).toBeGreaterThan(10);
      const shape = StackConfigSchema.shape as Record<string, { safeParse(v: unknown): { data?: unknown } }>;
      const schemaDefault = present(shape[key], `the schema's ${key}`).safeParse(undefined).data;
      expect(decl.default).toEqual(schemaDefault);
    },
  );

  it.each(SECRET_NAMES)("declares %s as a secret without a default", (name) => {
    expect(project.config[name]).toMatchObject({ type: "string", secret: true });
    expect(declared(name).default).toBeUndefined();
  });

  it.each(Object.keys(TARGET_IMAGE_DEFAULTS.docker))(
    "leaves the %s image's default to the target and says what it is",
    (name) => {
      const decl = declared(imageKey(name as keyof typeof TARGET_IMAGE_DEFAULTS.docker));
      expect(decl.default).toBeUndefined();
      expect(decl.description).toMatch(/default/i);
    },
  );

  it.each([
    ["docker", "docker"],
    ["k8s", "kubernetes"],
  ] as const)("Pulumi.%s.yaml parses for the %s target and holds no secret", (stack, target) => {
    const raw = readStackFile(stack);
    expect(parse_(raw).target).toBe(target);
    const text = fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8");
    expect(text).not.toMatch(/^\s+secure:/m);
    for (const name of SECRET_NAMES) expect([name, Object.keys(raw).includes(name)]).toEqual([name, false]);
  });
});
