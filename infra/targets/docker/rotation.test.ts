import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, SECRET_NAMES } from "../../config";
import type { SecretName } from "../../deployment";
import { zip } from "../../../test/support/checked";
import { testSecrets } from "../../../test/support/deploy-config";
import {
  recordResources,
  recorded,
  settle,
  settleRegistrations,
  unwrapSecrets,
  upstreamOf,
  type RecordedResource,
} from "../../../test/support/pulumi-mocks";
import type * as dockerTarget from "./index";

// Rotating a secret = running the program again with one secret changed. What the engine would
// update or replace is every container whose inputs differ, leaving out its ignoreChanges.

const CONTAINER = "docker:index/container:Container";
const MARIADB_SERVER = /^mysql-(primary|replica-\d+)$/;
let deployDocker: typeof dockerTarget.deployDocker;
let base: Map<string, RecordedResource>;

async function deploy(rotated: SecretName[] = []): Promise<Map<string, RecordedResource>> {
  const start = recorded.length;
  const secrets = testSecrets();
  for (const name of rotated) secrets[name] = pulumi.secret(`ROTATED-${name}-0b9d7e5c3a1f2e4d6c8b`);
  await settle(deployDocker(parseStackConfig({ target: "docker" }, secrets)).apiUrl, 60_000);
  const resources = (await settleRegistrations()).slice(start).filter((r) => r.type === CONTAINER);
  return new Map(resources.map((r) => [String(r.inputs.name), r]));
}

/** The inputs the engine diffs: unwrapped, without the ignoreChanges properties. */
function diffed(r: RecordedResource): string {
  const inputs = unwrapSecrets(r.inputs) as Record<string, unknown>;
  for (const path of r.ignoreChanges) delete inputs[path];
  return JSON.stringify(inputs);
}

async function changedBy(...secrets: SecretName[]): Promise<string[]> {
  const after = await deploy(secrets);
  return [...after].filter(([name, r]) => diffed(r) !== diffed(base.get(name)!)).map(([name]) => name);
}

beforeAll(async () => {
  await recordResources("docker");
  deployDocker = (require("./index") as typeof dockerTarget).deployDocker;
  base = await deploy();
});

describe("rotating a secret on Docker", () => {
  it("leaves every MariaDB server alone whichever secrets change (all of them at once here)", async () => {
    const changed = await changedBy(...SECRET_NAMES);
    expect(changed.length).toBeGreaterThan(20);
    expect(changed.filter((n) => MARIADB_SERVER.test(n))).toEqual([]);
  });

  it("re-applies the MariaDB root password through the jobs alone (and the runbooks' stack file)", async () => {
    expect((await changedBy("mysqlRootPassword")).sort()).toEqual(
      ["mysql-bootstrap", "mysql-replica-1-setup", "runbooks"].sort(),
    );
  });

  it("re-points the replicas with a rotated replication password, without touching a server", async () => {
    expect((await changedBy("mysqlReplicationPassword")).sort()).toEqual(
      ["mysql-bootstrap", "mysql-replica-1-setup", "runbooks"].sort(),
    );
  });

  it("re-applies rotated Redis passwords through the auth jobs, replacing no node", async () => {
    const changed = await changedBy(
      "redisAppPassword",
      "redisAdminPassword",
      "redisReplicationPassword",
      "redisExporterPassword",
    );
    expect(changed.filter((n) => /^redis-\d+$/.test(n))).toEqual([]);
    expect(changed).toEqual(expect.arrayContaining(["redis-auth", "redis-auth-finish", "redis-cluster-form"]));
  });

  it("re-imports rotated RabbitMQ passwords through the users job, replacing no broker", async () => {
    const changed = await changedBy("rabbitmqAppPassword", "rabbitmqAdminPassword");
    expect(changed).not.toContain("rabbitmq");
    expect(changed).toContain("rabbitmq-users");
  });

  it("adds a rotated Redis password before any client is replaced, and drops the old one after every client", () => {
    const all = [...base.values()];
    const byName = (n: string) => base.get(n)!;
    const clients = all.filter((r) => JSON.stringify(unwrapSecrets(r.inputs)).includes("TEST-SECRET-redisAppPassword"));
    expect(clients.length).toBeGreaterThan(5);
    for (const c of clients) {
      const name = String(c.inputs.name);
      // Through components too: every registration, not just the containers.
      expect([name, upstreamOf(c.urn, recorded).has(byName("redis-auth").urn)]).toEqual([name, true]);
      expect([name, upstreamOf(byName("redis-auth-finish").urn, recorded).has(c.urn)]).toEqual([
        name,
        !name.startsWith("redis-auth"),
      ]);
    }
  });

  it("keeps the ignored root password env only on the servers, whose image reads it just once", () => {
    const ignoring = [...base.values()].filter((r) => r.ignoreChanges.length > 0);
    expect(ignoring.map((r) => [String(r.inputs.name), r.ignoreChanges])).toEqual(
      [...base.keys()].filter((n) => MARIADB_SERVER.test(n)).map((n) => [n, ["envs"]]),
    );
  });

  it("replaces stateful servers, API slots and workers one at a time, each after the one before", () => {
    const all = [...base.values()];
    const groups = [/^mysql-(primary|replica-\d+)$/, /^redis-\d+$/, /^api-\d+$/, /^worker-orders-\d+$/];
    for (const group of groups) {
      const members = all.filter((r) => group.test(String(r.inputs.name)));
      expect(members.length).toBeGreaterThan(1);
      for (const [before, r] of zip(members.slice(0, -1), members.slice(1))) {
        expect([String(r.inputs.name), upstreamOf(r.urn, all).has(before.urn)]).toEqual([String(r.inputs.name), true]);
      }
    }
  });
});
