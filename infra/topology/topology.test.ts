import { z } from "zod";
import {
  listPorts,
  localAddresses,
  parseServiceEnv,
  parseTopology,
  serviceConfigToEnv,
  serviceEnv,
  TopologySchema,
  withPortOffset,
} from ".";
import { at } from "../../test/support/checked";
import { topologyProblems as problemsOf } from "../../test/support/topology-problems";
import { isSecretSchema } from "./secret";

describe("parseTopology", () => {
  it("fills every default, including a local secret for every secret field", () => {
    const t = parseTopology({});
    expect(t.nginx.port).toBe(8080);
    expect(t.api.replicas).toBe(2);
    expect(t.redis.masters * (1 + t.redis.replicasPerMaster)).toBe(6);
    expect(t.mysql.users.app.password.length).toBeGreaterThan(0);
    expect(t.rabbitmq.queues.map((q) => q.name)).toEqual(["orders", "tracking"]);
  });

  it.each([
    ["API replicas 0", { api: { replicas: 0 } }, /^api\.replicas = 0: /],
    [
      "two components on one port",
      { nginx: { port: 13306 } },
      /^mysql\.primaryPort: port 13306 is already used by nginx\.port/,
    ],
    [
      "an empty secret",
      { mysql: { users: { app: { password: "" } } } },
      /^mysql\.users\.app\.password = "": a secret must not be empty/,
    ],
    [
      "a secret of the wrong type",
      { redis: { users: { app: { password: 42 } } } },
      /^redis\.users\.app\.password = 42: /,
    ],
    ["fewer than 3 Redis masters", { redis: { masters: 2 } }, /^redis\.masters = 2: /],
    [
      "min above max replicas",
      { autoscaling: { minReplicas: 5, maxReplicas: 3 } },
      /^autoscaling\.minReplicas = 5: must not exceed/,
    ],
    [
      "a duplicate queue",
      { rabbitmq: { queues: [{ name: "a" }, { name: "a" }] } },
      /^rabbitmq\.queues\.1\.name = "a": duplicate queue a/,
    ],
    ["an even number of RabbitMQ nodes", { rabbitmq: { nodes: 2 } }, /^rabbitmq\.nodes = 2: an odd number of nodes/],
    ["no RabbitMQ node", { rabbitmq: { nodes: 0 } }, /^rabbitmq\.nodes = 0: /],
    ["a bad cron schedule", { backups: { schedule: "daily" } }, /^backups\.schedule = "daily": /],
    // nginx refuses `limit_conn` of 65536 or more: the schema stops it before `nginx -t` does.
    [
      "a per-address connection limit nginx refuses",
      { nginx: { connectionsPerIp: 65_536 } },
      /^nginx\.connectionsPerIp = 65536: /,
    ],
  ])("rejects %s, naming the field and the value", (_, input, message) => {
    expect(problemsOf(input)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it("never prints a non-empty secret value", () => {
    const problems = problemsOf({ api: { jwtSecret: "hunter2-is-secret", replicas: 0 }, nginx: { port: 8101 } });
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("lets an API range collide with another component across the autoscaler's maximum", () => {
    expect(problemsOf({ nginx: { statusPort: 8106 } })).toEqual([
      expect.stringMatching(/port 8106 is already used by nginx\.statusPort/),
    ]);
  });
});

describe("withPortOffset", () => {
  it.each([1000, 2000, 2500, 3000])(
    "moves every port by %i, keeping the topology valid and disjoint from the defaults",
    (delta) => {
      const base = parseTopology({});
      const moved = withPortOffset(base, delta);
      expect(() => TopologySchema.parse(moved)).not.toThrow();
      const before = new Set(listPorts(base).map(([, p]) => p));
      const after = listPorts(moved).map(([, p]) => p);
      expect(after.filter((p) => before.has(p))).toEqual([]);
      expect(after).toEqual(listPorts(base).map(([, p]) => p + delta));
    },
  );
});

describe("service environment mapping", () => {
  const t = parseTopology({ api: { replicas: 3 }, mysql: { replicas: 2 } });
  const a = localAddresses(t);
  const env = serviceEnv(
    t,
    a,
    { id: "api-3", host: "127.0.0.1", port: at(a.api, 2, "api-3's address").port },
    { staticDir: "/srv/static", staticBaseUrl: "/static/" },
  );

  it("round-trips: environment → config → environment is the identity", () => {
    expect(serviceConfigToEnv(parseServiceEnv(env))).toEqual(env);
  });

  it("carries the topology's addresses and the app's least-privilege credentials", () => {
    const c = parseServiceEnv(env);
    expect(c.HTTP_PORT).toBe(8103);
    expect(c.MYSQL_PRIMARY).toEqual(a.mysqlPrimary);
    expect(c.MYSQL_REPLICAS).toEqual(a.mysqlReplicas);
    expect(c.REDIS_NODES).toEqual(a.redis);
    expect(c.MYSQL_USER).toBe(t.mysql.users.app.name);
    expect(c.REDIS_USER).toBe("app");
    expect(c.RABBITMQ_USER).toBe(t.rabbitmq.users.app.name);
  });

  it("gives every target the per-address login and sign-up budgets", () => {
    const tight = parseTopology({ api: { rateLimits: { loginsPerMinutePerIp: 7, signupsPerMinutePerIp: 3 } } });
    const c = parseServiceEnv(
      serviceEnv(
        tight,
        localAddresses(tight),
        { id: "api-1", host: "127.0.0.1", port: 8101 },
        {
          staticDir: "/srv/static",
          staticBaseUrl: "/static/",
        },
      ),
    );
    expect([c.LOGINS_PER_MINUTE_PER_IP, c.SIGNUPS_PER_MINUTE_PER_IP]).toEqual([7, 3]);
    expect(parseServiceEnv(env).SIGNUPS_PER_MINUTE_PER_IP).toBe(t.api.rateLimits.signupsPerMinutePerIp);
  });

  it("serves the naive baseline only when the topology asks for it (the benchmark's stack)", () => {
    expect(parseServiceEnv(env).NAIVE_BASELINE).toBe(false);
    const bench = parseTopology({ api: { naiveBaseline: true } });
    const benchEnv = serviceEnv(
      bench,
      localAddresses(bench),
      { id: "api-1", host: "127.0.0.1", port: 8101 },
      { staticDir: "/srv/static", staticBaseUrl: "/static/" },
    );
    expect(parseServiceEnv(benchEnv).NAIVE_BASELINE).toBe(true);
    expect(() => parseServiceEnv({ ...env, NAIVE_BASELINE: "yes" })).toThrow(/- NAIVE_BASELINE \("yes"\)/);
  });

  it.each([
    ["MYSQL_PASSWORD", undefined, /- MYSQL_PASSWORD \(unset\)/],
    ["HTTP_PORT", "eighty", /- HTTP_PORT \("eighty"\)/],
    ["REDIS_NODES", "", /- REDIS_NODES \(""\): at least one Redis node/],
    ["MYSQL_PRIMARY", "db-without-port", /- MYSQL_PRIMARY \("db-without-port"\): expected host:port/],
  ])("rejects a bad %s, naming the variable", (name, value, message) => {
    expect(() => parseServiceEnv({ ...env, [name]: value })).toThrow(message);
  });

  it("hides secret values in its errors", () => {
    expect(() => parseServiceEnv({ ...env, JWT_SECRET: "", MYSQL_PASSWORD: undefined })).toThrow(
      /JWT_SECRET \(<secret>\)/,
    );
  });
});

describe("secret fields", () => {
  it("marks every password and key in the schema as a secret", () => {
    const secrets: string[] = [];
    const walk = (schema: z.ZodType, path: string) => {
      if (isSecretSchema(schema)) secrets.push(path);
      const def = (
        schema as unknown as { def: { innerType?: z.ZodType; shape?: Record<string, z.ZodType>; in?: z.ZodType } }
      ).def;
      if (def.innerType) walk(def.innerType, path);
      if (def.in) walk(def.in, path);
      if (def.shape) for (const [k, v] of Object.entries(def.shape)) walk(v, path ? `${path}.${k}` : k);
    };
    walk(TopologySchema, "");
    expect(secrets.sort()).toEqual(
      [
        "api.jwtSecret",
        "api.admin.password",
        ...["app", "migrator", "replication", "backup", "exporter"].map((u) => `mysql.users.${u}.password`),
        ...["app", "replication", "admin", "exporter"].map((u) => `redis.users.${u}.password`),
        ...["app", "admin"].map((u) => `rabbitmq.users.${u}.password`),
      ].sort(),
    );
  });
});
