import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const repoRoot = path.resolve(__dirname, "..", "..");

function runStack(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts", "stack", "main.ts"), ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 60_000,
  });
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
