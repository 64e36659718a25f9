import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { SECRET_NAMES } from "../../config";
import { withSecrets, type SecretName } from "../../deployment";
import { renderRedisAcl, renderRedisConf, renderRedisReplicationAuth } from "../../render";
import { buildDeployConfig } from "../../../test/support/deploy-config";
import type { Topology } from "../../topology";
import { redisAuthScript, type RedisAuthPhase } from "./redis-auth";
import { freePort } from "../../../services/src/platform/ports";

// The Redis auth jobs' shell, run here against two real redis-server processes (a master and its
// replica) configured as the Docker target configures a node: users in an aclfile and the
// replication credentials in an included file, both in the node's directory. It rotates every
// Redis password in place while a client stays connected, and checks what survives a restart.

// Ports the kernel hands out: a fixed range can hold another server's (a cluster bus is port + 10000).
const MASTER = { name: "master", port: 0 };
const REPLICA = { name: "replica", port: 0 };
const NODES = [MASTER, REPLICA];

let dir: string;
const servers = new Map<string, ChildProcess>();

/** A topology whose four Redis passwords are `<user>-<generation>`, with characters redis.conf must quote. */
function topology(generation: string): Topology {
  const values = Object.fromEntries(
    SECRET_NAMES.map((n) => [n, `${n}-${generation}-"quoted" #not-a-comment\\`]),
  ) as Record<SecretName, string>;
  return withSecrets(buildDeployConfig("docker").topology, values);
}
const password = (t: Topology, user: "app" | "admin" | "replication" | "exporter") => t.redis.users[user].password;

const nodeDir = (name: string) => path.join(dir, name);
const jobNodes = () =>
  NODES.map((n) => ({ name: n.name, address: { host: "127.0.0.1", port: n.port }, mount: nodeDir(n.name) }));

function runJob(phase: RedisAuthPhase, t: Topology, adminPassword = password(t, "admin")) {
  fs.writeFileSync(path.join(dir, "uploads", "users.acl"), renderRedisAcl(t));
  fs.writeFileSync(path.join(dir, "uploads", "replication.conf"), renderRedisReplicationAuth(t));
  const script = redisAuthScript(phase, jobNodes(), {
    uploads: path.join(dir, "uploads"),
    credentialsDir: path.join(dir, "credentials"),
    waitSeconds: 3,
  });
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      "sh",
      ["-c", script],
      { env: { PATH: process.env.PATH, REDISCLI_AUTH: adminPassword }, timeout: 60_000 },
      (err, out, errOut) => resolve({ code: err ? Number(err.code ?? -1) : 0, output: out + errOut }),
    );
  });
}

async function startNode(name: string, t: Topology): Promise<void> {
  const node = NODES.find((n) => n.name === name)!;
  const d = nodeDir(name);
  const conf = renderRedisConf(t, {
    port: node.port,
    bindHost: "127.0.0.1",
    paths: { dir: d, pidFile: path.join(d, "redis.pid"), logFile: path.join(d, "redis.log") },
    auth: { aclFile: path.join(d, "users.acl"), includeFile: path.join(d, "replication.conf") },
  }).replace("cluster-enabled yes", "cluster-enabled no");
  const replicaOf = name === "replica" ? `replicaof 127.0.0.1 ${MASTER.port}\n` : "";
  fs.writeFileSync(path.join(d, "redis.conf"), conf + replicaOf);
  servers.set(name, spawn("redis-server", [path.join(d, "redis.conf")], { stdio: "ignore" }));
  for (let i = 0; i < 100; i++) {
    if (await loginWorks(name, "admin", password(t, "admin")).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not start: ${fs.readFileSync(path.join(d, "redis.log"), "utf8")}`);
}

async function stopNode(name: string): Promise<void> {
  const child = servers.get(name);
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

async function loginWorks(name: string, user: string, pass: string): Promise<boolean> {
  const client = new Redis({
    port: NODES.find((n) => n.name === name)!.port,
    username: user,
    password: pass,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function replicaLinkUp(t: Topology): Promise<boolean> {
  const admin = new Redis({ port: REPLICA.port, username: "admin", password: password(t, "admin") });
  try {
    for (let i = 0; i < 100; i++) {
      if (/master_link_status:up/.test(await admin.info("replication"))) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    admin.disconnect();
  }
}

const OLD = topology("old");
const NEW = topology("new");
let held: Redis;

beforeAll(async () => {
  for (const n of NODES) n.port = await freePort();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-auth-"));
  for (const sub of ["uploads", "credentials", ...NODES.map((n) => n.name)]) fs.mkdirSync(path.join(dir, sub));
});

afterAll(async () => {
  if (held && held.status !== "end") held.disconnect();
  for (const n of NODES) await stopNode(n.name);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the Redis auth jobs", () => {
  it("write each node's users and replication credentials before its first start", async () => {
    const run = await runJob("prepare", OLD);
    expect(run).toEqual({
      code: 0,
      output: "master: users written for its first start\nreplica: users written for its first start\n",
    });
    for (const n of NODES) {
      expect(fs.readFileSync(path.join(nodeDir(n.name), "users.acl"), "utf8")).toBe(renderRedisAcl(OLD));
      expect(fs.statSync(path.join(nodeDir(n.name), "users.acl")).uid).toBe(Number(await idOf("redis")));
    }
    for (const n of NODES) await startNode(n.name, OLD);
    expect(await replicaLinkUp(OLD)).toBe(true);
    held = new Redis({ port: MASTER.port, username: "app", password: password(OLD, "app") });
    expect(await held.set("k", "v")).toBe("OK");
  });

  it("prepare: every user accepts its new password besides the old one, and no connection is closed", async () => {
    // The configured admin password is the new one: the job logs in with the one it recorded.
    const run = await runJob("prepare", NEW);
    expect(run.code).toBe(0);
    expect(run.output).toBe(
      "master: new passwords accepted besides the old ones\nreplica: new passwords accepted besides the old ones\n",
    );
    for (const user of ["app", "admin", "replication", "exporter"] as const) {
      expect([user, await loginWorks("master", user, password(NEW, user))]).toEqual([user, true]);
      expect([user, await loginWorks("master", user, password(OLD, user))]).toEqual([user, true]);
    }
    expect(await held.get("k")).toBe("v");
    expect(fs.readFileSync(path.join(dir, "credentials", "redis-admin"), "utf8")).toBe(password(NEW, "admin"));
    expect(fs.readFileSync(path.join(nodeDir("replica"), "replication.conf"), "utf8")).toBe(
      renderRedisReplicationAuth(NEW),
    );
    // The replica re-authenticates with the new password, which CONFIG SET gave it (quotes and all).
    const admin = new Redis({ port: REPLICA.port, username: "admin", password: password(NEW, "admin") });
    expect(await admin.config("GET", "masterauth")).toEqual(["masterauth", password(NEW, "replication")]);
    await admin.call("CLIENT", "KILL", "TYPE", "master");
    admin.disconnect();
    expect(await replicaLinkUp(NEW)).toBe(true);
  });

  it("finish: only the new passwords are accepted, still without closing a connection", async () => {
    const run = await runJob("finish", NEW);
    expect(run).toEqual({
      code: 0,
      output: "master: only the new passwords accepted\nreplica: only the new passwords accepted\n",
    });
    for (const user of ["app", "admin", "replication", "exporter"] as const) {
      expect([user, await loginWorks("replica", user, password(NEW, user))]).toEqual([user, true]);
      expect([user, await loginWorks("replica", user, password(OLD, user))]).toEqual([user, false]);
    }
    expect(await held.get("k")).toBe("v");
  });

  it("keeps the rotated users and replication credentials across a restart of both nodes", async () => {
    held.disconnect();
    for (const n of NODES) await stopNode(n.name);
    for (const n of NODES) await startNode(n.name, NEW);
    expect(await loginWorks("master", "app", password(NEW, "app"))).toBe(true);
    expect(await loginWorks("master", "app", password(OLD, "app"))).toBe(false);
    expect(await replicaLinkUp(NEW)).toBe(true);
  });

  it("re-runs on an applied rotation without a change", async () => {
    expect((await runJob("prepare", NEW)).code).toBe(0);
    expect((await runJob("finish", NEW)).code).toBe(0);
    expect(await loginWorks("master", "app", password(OLD, "app"))).toBe(false);
  });

  it("fails with the reason, printing no password, when no admin password it knows is accepted", async () => {
    fs.rmSync(path.join(dir, "credentials", "redis-admin"));
    fs.rmSync(path.join(dir, "credentials", "redis-admin.previous"), { force: true });
    const run = await runJob("prepare", topology("third"));
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/admin login to master \(127\.0\.0\.1:\d+\) refused with the configured password/);
    for (const t of [OLD, NEW, topology("third")]) expect(run.output).not.toContain(password(t, "admin"));
  });

  it("gives up on a node that does not answer", async () => {
    await stopNode("master");
    const run = await runJob("finish", NEW);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/master \(127\.0\.0\.1:\d+\) did not answer within 3 s/);
  });
});

function idOf(user: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("id", ["-u", user], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
}
