import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { $, retry, within, type ProcessPromise } from "zx";
import { clusterFormScript, renderRedisConf } from "../infra/render";
import { localAddresses, parseTopology, type HostPort } from "../infra/topology";
import { freePort } from "../services/src/platform/ports";
import { at } from "../test/support/checked";
import { main } from "./redis-cluster";
import { firstLine, redisCli } from "./lib/shell";
import type { StackFileInput } from "../infra/targets/stack-file";

// redis-cluster --failover against six real redis-server processes that, as on Kubernetes, are
// addressed and announce themselves by a name (here "localhost", the one name this machine
// resolves, on each node's own port) while CLUSTER NODES reports their IP, 127.0.0.1. Comparing
// the stack's names with those IPs found no replica and refused; matched by name it fails over, and
// says "done" only once the replica is master with cluster_state ok.

const t = parseTopology({ redis: { masters: 3, replicasPerMaster: 1, clusterNodeTimeoutMs: 2000 } });
const admin = t.redis.users.admin.password;
let dir: string;
let nodes: HostPort[];
const servers: ProcessPromise[] = [];

const role = async (n: HostPort) => firstLine(await redisCli(t, n, ["ROLE"])).trim();

/** Runs the runbook on the Kubernetes-style stack file; its exit code and output. */
async function runbook(...args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    // As main.ts runs it off a terminal: zx quiet, so no spinner draws into the test's output.
    const code = await within(() => {
      $.quiet = true;
      return main(["--target", "k8s", "--stack-file", path.join(dir, "stack.json"), ...args]);
    });
    return { code, out };
  } finally {
    write.mockRestore();
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-failover-"));
  nodes = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    // Its own bus port: port + 10000, the default, may be above 65535 for a port the kernel hands out.
    const busPort = await freePort();
    const d = path.join(dir, `node-${i}`);
    fs.mkdirSync(d);
    const conf = renderRedisConf(t, {
      port,
      bindHost: "127.0.0.1",
      paths: { dir: d, pidFile: path.join(d, "redis.pid"), logFile: path.join(d, "redis.log") },
    });
    const named = `cluster-port ${busPort}\ncluster-announce-hostname localhost\ncluster-preferred-endpoint-type hostname\n`;
    fs.writeFileSync(path.join(d, "redis.conf"), conf + named);
    servers.push($({ quiet: true, nothrow: true })`redis-server ${path.join(d, "redis.conf")}`);
    nodes.push({ host: "localhost", port });
  }
  // The forming job's own script: each replica joins its own shard's master.
  const formed = await $({
    env: { PATH: process.env.PATH, REDISCLI_AUTH: admin },
    timeout: 90_000,
    quiet: true,
    nothrow: true,
  })`sh -c ${clusterFormScript(nodes, 1, 30)}`;
  if (formed.exitCode !== 0) throw new Error(`forming failed: ${formed.stdall}`);
  const file: StackFileInput = {
    target: "k8s",
    topology: t,
    addresses: { ...localAddresses(t), redis: nodes },
    mysqlAdmin: { user: "root", password: "unused" },
    processes: nodes.map((_, i) => ({
      name: `redis-${i + 1}`,
      statefulSet: `redis-shard-${i % 3}`,
      ordinal: i < 3 ? 0 : 1,
    })),
    kubernetes: { namespace: "fg" },
  };
  fs.writeFileSync(path.join(dir, "stack.json"), JSON.stringify(file));
  // Every replica linked before the runbook looks.
  await retry(100, "200ms", async () => {
    if ((await runbook()).code !== 0) throw new Error("not every replica linked yet");
  }).catch(() => undefined); // the tests then say what the runbook sees
}, 120_000);

afterAll(async () => {
  await Promise.all(
    servers.map(async (s) => {
      await s.kill("SIGKILL").catch(() => undefined); // already gone: nothing to kill
      await s;
    }),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("redis-cluster --failover on a cluster that announces names", () => {
  it("finds the master's replica by name, promotes it, and reports done once it is master", async () => {
    // redisShards' order: node 4 replicates node 1.
    expect([await role(at(nodes, 0, "redis-1")), await role(at(nodes, 3, "redis-4"))]).toEqual(["master", "slave"]);
    const dry = await runbook("--failover", "redis-1");
    expect(dry.out).toMatch(/would: CLUSTER FAILOVER on redis-4, taking over redis-1's slots/);

    const run = await runbook("--failover", "redis-1", "--apply", "--yes");

    expect(run.out).toMatch(/done\s+CLUSTER FAILOVER on redis-4/);
    expect(run.out).toMatch(/ok: redis-4 \(localhost:\d+\) is master: cluster_state ok/);
    expect(run.code).toBe(0);
    expect([await role(at(nodes, 0, "redis-1")), await role(at(nodes, 3, "redis-4"))]).toEqual(["slave", "master"]);
  });

  it("refuses a node that is not a master, saying so", async () => {
    const run = await runbook("--failover", "redis-1", "--apply", "--yes");

    expect(run.out).toMatch(/PROBLEM: redis-1 has a replica to fail over to: redis-1 is not a master/);
    expect(run.code).toBe(1);
  });
});
