import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { withSecrets } from "../../infra/deployment";
import { serviceEnv, localAddresses } from "../../infra/topology";
import { buildDeployConfig, testSecretValue, testSecretValues } from "./deploy-config";
import {
  isSecretValue,
  plainOccurrences,
  recordResources,
  recorded,
  settle,
  settleRegistrations,
  upstreamOf,
  type RecordedResource,
} from "./pulumi-mocks";

// Self-tests of the "no plain secret in any resource input" policy: each case leaks a secret the
// way a careless component could, and the policy must see it.

const JWT = testSecretValue("jwtSecret");
const find = (name: string): RecordedResource => {
  const r = recorded.find((x) => x.name === name);
  if (!r) throw new Error(`${name} was not registered`);
  return r;
};

beforeAll(async () => {
  await recordResources("selftest");
  const cfg = buildDeployConfig("docker");
  const secret = cfg.secrets.jwtSecret;
  // Leak 1: unsecret, then use the value.
  new docker.Container("leak-unsecret", {
    image: "x",
    envs: pulumi.unsecret(secret).apply((v) => [`JWT_SECRET=${v}`]),
  });
  // Leak 2: a topology built with the real secret outside any Output, beside a proper secret sibling.
  const plainTopology = withSecrets(cfg.topology, { jwtSecret: JWT });
  const env = serviceEnv(
    plainTopology,
    localAddresses(plainTopology),
    { id: "x", host: "0.0.0.0", port: 8101 },
    {
      staticDir: "/s",
      staticBaseUrl: "/static/",
    },
  );
  new docker.Container("leak-beside-secret", {
    image: "x",
    envs: [pulumi.interpolate`MYSQL_PASSWORD=${cfg.secrets.mysqlAppPassword}`, `JWT_SECRET=${env.JWT_SECRET}`],
  });
  // Done right: rendered inside apply on the secrets, so the result stays a secret.
  new docker.Container("kept-secret", { image: "x", envs: secret.apply((v) => [`JWT_SECRET=${v}`]) });
  // A small graph: explicit dependsOn on a component, an implicit one through an Output input, a parent's.
  const volume = new docker.Volume("dep-volume", { name: "v" });
  const group = new pulumi.ComponentResource("test:index:Group", "dep-group", {}, { dependsOn: [volume] });
  new docker.Container("dep-member", { image: "x" }, { parent: group });
  new docker.Container("dep-after-group", { image: "x" }, { dependsOn: [group] });
  new docker.Container("dep-by-input", {
    image: "x",
    volumes: [{ volumeName: volume.name, containerPath: "/v" }],
  });
  await settleRegistrations();
});

describe("the plain-secret policy", () => {
  it("catches a secret passed through pulumi.unsecret", () => {
    expect(plainOccurrences(find("leak-unsecret").rawInputs, testSecretValues())).toEqual(["envs[0]"]);
  });

  it("catches a plain secret beside a secret sibling, which the hoisted mock inputs would hide", () => {
    const r = find("leak-beside-secret");
    // The mock API marks the whole list secret because one element is...
    expect(isSecretValue(r.inputs.envs)).toBe(true);
    expect(plainOccurrences(r.inputs, testSecretValues())).toEqual([]);
    // ...but the wire form still shows the leaked element.
    expect(plainOccurrences(r.rawInputs, testSecretValues())).toEqual(["envs[1]"]);
  });

  it("passes a secret rendered inside apply", () => {
    const r = find("kept-secret");
    expect(plainOccurrences(r.rawInputs, testSecretValues())).toEqual([]);
    expect(JSON.stringify(r.rawInputs)).toContain(JWT);
  });
});

describe("the recorded dependency graph", () => {
  it("records an explicit dependsOn on a component as its children, as the engine receives it", () => {
    expect(find("dep-after-group").dependencies).toEqual([find("dep-member").urn]);
  });

  it("records an implicit dependency through an Output input", () => {
    expect(find("dep-by-input").dependencies).toEqual([find("dep-volume").urn]);
  });

  it("orders a child after its parent's own dependsOn", () => {
    expect(find("dep-member").dependencies).toEqual([]);
    expect(upstreamOf(find("dep-member").urn).has(find("dep-volume").urn)).toBe(true);
    expect(upstreamOf(find("dep-volume").urn).size).toBe(0);
  });
});

describe("the mocks guard", () => {
  it("fails at once, instead of hanging, when a test forgot to set the mocks", () => {
    jest.isolateModules(() => {
      const fresh = require("./pulumi-mocks") as typeof import("./pulumi-mocks");
      expect(() => fresh.settle(pulumi.output(1))).toThrow(/mocks are not set/);
    });
  });

  it("rejects an output that never resolves within the timeout", async () => {
    const never = pulumi.output(new Promise<number>(() => undefined));
    await expect(settle(never, 200)).rejects.toThrow(/did not resolve within 200 ms/);
  });
});
