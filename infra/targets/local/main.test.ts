import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeState } from "./state";
import { isAlive } from "./supervisor";

const repoRoot = path.resolve(__dirname, "..", "..", "..");

function runStack(args: string[]) {
  return spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(repoRoot, "infra", "targets", "local", "main.ts"), ...args],
    {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
}

describe("stack CLI", () => {
  it.each([
    ["API replicas 0", "api:\n  replicas: 0\n", /api\.replicas = 0/],
    ["two components on one port", "redis:\n  basePort: 19090\n", /port 19090 is already used/],
    [
      "a missing secret",
      "rabbitmq:\n  users:\n    app:\n      password: ''\n",
      /rabbitmq\.users\.app\.password = "": a secret must not be empty/,
    ],
  ])("refuses %s before starting any process, naming the field and the value", (_, yaml, message) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fg-bad-topology-"));
    const file = path.join(dir, "topology.yaml");
    fs.writeFileSync(file, yaml);
    const stateDir = path.join(dir, "state");

    const result = runStack(["up", "--topology", file, "--state-dir", stateDir]);

    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(fs.existsSync(path.join(stateDir, "stack.json"))).toBe(false);
    expect(fs.existsSync(path.join(stateDir, "logs"))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a port offset that moves a port above 65535, before starting any process", () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "fg-offset-"));

    const result = runStack(["up", "--port-offset", "40000", "--state-dir", stateDir]);

    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--port-offset 40000 moves \S+ to \d{5}, above 65535/);
    expect(fs.readdirSync(stateDir)).toEqual([]);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("prints its usage with --help", () => {
    const result = runStack(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/npm run stack -- status/);
  });

  it("rejects an unknown command with the usage and exit code 2", () => {
    const result = runStack(["explode"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown command explode/);
  });
});

describe("stack stop", () => {
  // Stand-ins for a stack: an owner and two components, each in its own process group as the supervisor
  // runs them; one component ignores SIGTERM, so only its stop timeout's SIGKILL ends it.
  const detached = (script: string) => spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });

  it("kills an owner that does not stop within --timeout and stops the processes it recorded itself", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fg-stuck-owner-"));
    const owner = detached("exec sleep 600");
    const stubborn = detached("trap '' TERM; sleep 600 & wait");
    const plain = detached("exec sleep 600");
    process.kill(owner.pid!, "SIGSTOP"); // a stopped owner never handles the SIGTERM stop sends it
    writeState(path.join(dir, "stack.json"), {
      ownerPid: owner.pid!,
      root: dir,
      startedAt: new Date().toISOString(),
      epmdPort: 1, // no epmd answers there: the epmd step has nothing to stop
      processes: [
        { name: "stubborn", pid: stubborn.pid!, address: "", logFile: "", phase: 1, stopTimeoutMs: 500 },
        { name: "plain", pid: plain.pid!, address: "", logFile: "", phase: 2 },
      ],
    });

    const began = Date.now();
    const result = runStack(["stop", "--timeout", "1", "--state-dir", dir]);
    const tookMs = Date.now() - began;

    expect(result.stdout).toMatch(/owner \(pid \d+\) is stopped \(SIGSTOP\) within 1 s: killing it/);
    expect(result.stdout).toMatch(/stopped what the owner left running: stubborn, plain\nstack stopped\n$/);
    expect(result.status).toBe(0);
    expect(tookMs).toBeLessThan(10_000); // 1 s for the owner, 0.5 s before the SIGKILL, and node's own start
    expect([owner.pid!, stubborn.pid!, plain.pid!].filter(isAlive)).toEqual([]);
    expect(groupMembers(stubborn.pid!)).toEqual([]); // the sleep that ignored SIGTERM too
    expect(fs.existsSync(path.join(dir, "stack.json"))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/** Live members of a process group, from /proc. */
function groupMembers(pgid: number): number[] {
  return fs.readdirSync("/proc").flatMap((e) => {
    if (!/^\d+$/.test(e)) return [];
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(group) === pgid && state !== "Z" ? [Number(e)] : [];
    } catch {
      return [];
    }
  });
}
