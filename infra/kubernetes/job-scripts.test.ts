import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { formClusterScript, sqlJobScript } from "./job-scripts";

/** Run a Job's script with fake client tools first on PATH; each fake logs its arguments and answers from `replies`. */
function runWithFakes(script: string, fakes: Record<string, string>): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fg-k8s-job-"));
  const log = path.join(dir, "calls.log");
  for (const [tool, body] of Object.entries(fakes)) {
    fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> ${log}\n${body}\n`, { mode: 0o755 });
  }
  execFileSync("sh", ["-c", script], { env: { PATH: `${dir}:/usr/bin:/bin` }, timeout: 10_000 });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  fs.rmSync(dir, { recursive: true, force: true });
  return calls;
}

const nodes = Array.from({ length: 6 }, (_, i) => ({ host: `redis-${i}.redis.fg.svc.cluster.local`, port: 17001 }));
const redisCli = (knownNodes: number) =>
  `case "$*" in *PING*) echo PONG;; *"CLUSTER INFO"*) printf 'cluster_state:fail\\r\\ncluster_known_nodes:${knownNodes}\\r\\n';; esac`;

describe("the Redis cluster-forming Job", () => {
  it.each([
    [1, true],
    [6, false],
  ])("with %i known node(s) per node, creates the cluster: %s", (known, creates) => {
    const calls = runWithFakes(formClusterScript(nodes, 1), { "redis-cli": redisCli(known) });
    const creations = calls.filter((c) => c.includes("--cluster create"));
    expect(creations).toHaveLength(creates ? 1 : 0);
    if (creates)
      expect(creations[0]).toContain(
        `${nodes.map((n) => `${n.host}:${n.port}`).join(" ")} --cluster-replicas 1 --cluster-yes`,
      );
    expect(calls.every((c) => c.includes("--user admin"))).toBe(true);
  });
});

describe("the MariaDB SQL Jobs", () => {
  const server = { host: "mysql-replica-1.fg.svc.cluster.local", port: 13307 };
  const mariadb = (slaveStatus: string) =>
    `case "$*" in *"SHOW SLAVE STATUS"*) printf '${slaveStatus}';; esac; cat > /dev/null`;

  it("applies the replica setup on a replica that follows no primary yet", () => {
    const calls = runWithFakes(sqlJobScript(server, "/dev/null", "SHOW SLAVE STATUS"), { mariadb: mariadb("") });
    expect(calls.at(-1)).toBe(`mariadb -h ${server.host} -P ${server.port} -uroot`);
  });

  it("leaves a replica that already replicates alone", () => {
    const calls = runWithFakes(sqlJobScript(server, "/dev/null", "SHOW SLAVE STATUS"), {
      mariadb: mariadb("Slave_IO_State x"),
    });
    expect(calls.at(-1)).toContain("SHOW SLAVE STATUS");
  });

  it("runs the bootstrap unconditionally once the server answers, with no password in its arguments", () => {
    const calls = runWithFakes(sqlJobScript(server, "/dev/null"), { mariadb: mariadb("") });
    expect(calls).toEqual([
      `mariadb -h ${server.host} -P ${server.port} -uroot -e SELECT 1`,
      `mariadb -h ${server.host} -P ${server.port} -uroot`,
    ]);
  });
});
