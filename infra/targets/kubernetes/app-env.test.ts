import { withSecrets } from "../../deployment";
import { parseTopology, serviceEnv } from "../../topology";
import { podEnv } from "./app-env";
import { migrationJobName } from "./app-pod";
import { kubernetesAddresses } from "./addresses";

const t = parseTopology({});
const a = kubernetesAddresses(t, { namespace: "fg" });
const instance = { id: "api", host: "0.0.0.0", port: 8101 };
const paths = { staticDir: "/static", staticBaseUrl: "/static/" };

describe("podEnv", () => {
  const { env, secretKeys } = podEnv(t, (tt) => serviceEnv(tt, a, instance, paths), "app-secrets");
  const byName = Object.fromEntries(env.map((e) => [e.name, e]));

  it.each([
    ["JWT_SECRET", "jwtSecret"],
    ["MYSQL_PASSWORD", "mysqlAppPassword"],
    ["REDIS_PASSWORD", "redisAppPassword"],
    ["RABBITMQ_PASSWORD", "rabbitmqAppPassword"],
  ])("references %s from the Secret's %s key instead of writing it", (variable, key) => {
    expect(byName[variable]).toEqual({ name: variable, valueFrom: { secretKeyRef: { name: "app-secrets", key } } });
  });

  it("writes every other variable as the service environment has it", () => {
    const expected = serviceEnv(t, a, instance, paths);
    for (const e of env.filter((x) => "value" in x)) expect(e.value).toBe(expected[e.name as keyof typeof expected]);
    expect(env).toHaveLength(Object.keys(expected).length);
  });

  it("names exactly the secrets it references", () => {
    expect(secretKeys).toEqual(["jwtSecret", "mysqlAppPassword", "rabbitmqAppPassword", "redisAppPassword"]);
  });

  it("refuses a variable that splices a secret into a longer value", () => {
    const render = (tt: typeof t) => ({ URL: `amqp://app:${tt.rabbitmq.users.app.password}@rabbitmq/` });
    expect(() => podEnv(t, render, "s")).toThrow(/URL: a secret must be the whole value/);
  });

  it("finds a secret whatever placeholder the topology holds", () => {
    const other = withSecrets(t, { jwtSecret: "something-else-entirely-0123456789abcdef" });
    expect(podEnv(other, (tt) => ({ JWT_SECRET: tt.api.jwtSecret }), "s").secretKeys).toEqual(["jwtSecret"]);
  });
});

describe("migrationJobName", () => {
  it.each([
    ["floodgate/services:0.1.0", /^migrate-0-1-0-[0-9a-f]{8}$/],
    ["registry.example.com:5000/floodgate/services:2026.11.28", /^migrate-2026-11-28-[0-9a-f]{8}$/],
    [`floodgate/services@sha256:${"c".repeat(64)}`, /^migrate-sha256-c{25}-[0-9a-f]{8}$/],
  ])("names the Job for %s after its version", (image, pattern) => {
    const name = migrationJobName(image);
    expect(name).toMatch(pattern);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it("changes with the image, so a new version migrates once", () => {
    expect(migrationJobName("floodgate/services:0.1.0")).not.toBe(migrationJobName("floodgate/services:0.1.1"));
    expect(migrationJobName("floodgate/services:0.1.0")).toBe(migrationJobName("floodgate/services:0.1.0"));
  });
});
