import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { testSecretValue } from "../../../test/support/deploy-config";
import { clusterFormScript } from "../../render";

// The jobs' shell scripts run here under sh, with stand-ins for the tools they call that print
// what the real ones print.

let bin: string;
beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), "job-scripts-"));
});
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

/** An executable stand-in for `tool` in the fake bin directory. */
function fakeTool(tool: string, body: string): void {
  fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

function runScript(script: string, env: Record<string, string>) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    const child = execFile("sh", ["-c", script], {
      env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
      timeout: 20_000,
    });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, output }));
  });
}

describe("waiting jobs", () => {
  it("redis-cluster-form forms the cluster once every node answers, and fails on one that never does", async () => {
    const calls = path.join(bin, "redis-cli.calls");
    // Nodes that know only themselves, then a healthy cluster; the node on port 2 answers only when told to.
    fakeTool(
      "redis-cli",
      [
        `echo "$*" >> ${calls}`,
        'case "$*" in',
        '  *"-p 2 ping"*) [ -n "$NODE2_UP" ] && echo PONG;;',
        "  *ping*) echo PONG;;",
        '  *"cluster info"*) printf "cluster_state:ok\\r\\ncluster_known_nodes:1\\r\\n";;',
        '  *"-p 1 cluster nodes"*) printf "id-of-1 10.0.20.1:1@10001,redis-1 myself,master - 0 0 1 connected 0-16383\\r\\n";;',
        "esac",
      ].join("\n"),
    );
    const nodes = [
      { host: "10.0.20.1", port: 1 },
      { host: "10.0.20.2", port: 2 },
    ];
    const auth = testSecretValue("redisAdminPassword");
    const down = await runScript(clusterFormScript(nodes, 1, 2), { REDISCLI_AUTH: auth });
    expect(down).toEqual({ code: 1, output: "10.0.20.2:2 answering PONG not reached within 2 s\n" });
    fs.rmSync(calls);
    const up = await runScript(clusterFormScript(nodes, 1, 2), { REDISCLI_AUTH: auth, NODE2_UP: "1" });
    expect(up).toEqual({ code: 0, output: "" });
    const formed = fs
      .readFileSync(calls, "utf8")
      .split("\n")
      .filter((l) => l.includes("--cluster "));
    // The masters first, then each replica to its own shard's master by id.
    expect(formed).toEqual([
      expect.stringContaining("--cluster create 10.0.20.1:1 --cluster-replicas 0"),
      expect.stringContaining("--cluster add-node 10.0.20.2:2 10.0.20.1:1 --cluster-slave --cluster-master-id id-of-1"),
    ]);
  });
});

// The MariaDB jobs' script runs against a real MariaDB in mysql-jobs.test.ts; bucket-init is a
// services program now, tested against a real S3 API in services/src/static-sync/.
