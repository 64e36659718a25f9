import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import http from "node:http";
import path from "node:path";
import fs from "node:fs";
import { listPorts, parseTopology, withPortOffset } from "../../infra/topology";
import { readState } from "../../infra/targets/local/state";
import { leftovers } from "./leftovers";
import { repoRoot } from "./test-stack";

// `npm start` as a developer runs it (bootstrap.js → Node 24 → the stack CLI), interrupted at moments
// of its start-up. Ports +3250: disjoint from the stacks at +0, +1000 (+1500), +2500, +3000 (the CLI
// test, chaos), +4000 (+4500) and +5000 (+5500), and all below the ephemeral range.
const OFFSET = 3250;
const topology = withPortOffset(parseTopology({}), OFFSET);
const ports = listPorts(topology).map(([, port]) => port);
const stateDir = path.join(repoRoot, ".floodgate", "test-start-signals");
const stateFile = path.join(stateDir, "stack.json");
const upArgs = ["scripts/bootstrap.js", "stack", "up", "--port-offset", String(OFFSET), "--state-dir", stateDir];

/** One `npm start`, in its own process group as a terminal's foreground job. */
interface Run {
  child: ChildProcess;
  output: () => string;
  /** Every pid the state file has listed so far (read every 20 ms, and on demand), and their names. */
  pids: Set<number>;
  names: Set<string>;
  recordPids: () => void;
  exited: Promise<number | null>;
}

function start(command: string, args: string[]): Run {
  let output = "";
  const child = spawn(command, args, { cwd: repoRoot, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const pids = new Set<number>();
  const names = new Set<string>();
  const recordPids = () =>
    readState(stateFile)?.processes.forEach((p) => {
      pids.add(p.pid);
      names.add(p.name);
    });
  const poll = setInterval(recordPids, 20);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      clearInterval(poll);
      resolve(code);
    }),
  );
  return { child, output: () => output, pids, names, recordPids, exited };
}

const npmStart = () => start(process.execPath, upArgs);

/** `npm start 2>&1 | head -c 100`: the reader goes away after the first line or two; the shell reports npm start's status. */
const npmStartPipedIntoHead = () =>
  start("bash", ["-c", `"$0" "$@" 2>&1 | head -c 100; exit \${PIPESTATUS[0]}`, process.execPath, ...upArgs]);

async function until<T>(what: string, run: Run, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never saw ${what}\n--- output ---\n${run.output()}`);
}

const sawLine = (run: Run, line: RegExp) => () => (line.test(run.output()) ? true : undefined);
const stateLists = (names: RegExp) => () =>
  readState(stateFile)?.processes.some((p) => names.test(p.name)) ? true : undefined;
const healthAnswers = () =>
  new Promise<true | undefined>((resolve) => {
    const req = http.get(`http://127.0.0.1:${topology.nginx.port}/api/v1/health`, { timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
  });

/** Ctrl-C: SIGINT to the whole foreground process group, as a terminal sends it. */
async function ctrlC(run: Run): Promise<number | null> {
  run.recordPids(); // the processes started up to this very moment
  process.kill(-run.child.pid!, "SIGINT");
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`still running 60 s after SIGINT\n${run.output()}`)), 60_000).unref(),
  );
  return Promise.race([run.exited, timeout]);
}

/** What the run left: nothing, once the owner has exited (a moment for the kernel to close the last socket). */
async function left(run: Run): Promise<string[]> {
  const what = { pgid: run.child.pid!, pids: run.pids, stateDir, ports };
  const deadline = Date.now() + 3_000;
  while (leftovers(what).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return leftovers(what);
}

const stackCli = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "infra/targets/local/main.ts", ...args, "--state-dir", stateDir], {
    cwd: repoRoot,
    encoding: "utf8",
  });

describe("npm start interrupted during start-up", () => {
  beforeAll(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  afterAll(() => stackCli("stop", "--timeout", "10")); // whatever a failed assertion left running

  // The first run starts from nothing and initialises every data directory; the others reuse them,
  // so each gets to its moment in seconds.
  // Each moment with the processes that must have started by then (the state file listed them).
  it.each([
    ["just after nginx first answers /api/v1/health", (_: Run) => healthAnswers, ["nginx", "mysql-primary"]],
    ["as start-up begins (its first line)", (run: Run) => sawLine(run, /starting \d+ API replicas/), []],
    ["once the first components have started", (_: Run) => stateLists(/./), []],
    ["mid start-up, once MariaDB is ready", (run: Run) => sawLine(run, /mysql-primary ready/), ["mysql-primary"]],
  ])(
    "%s: Ctrl-C stops what has started and leaves no process or port",
    async (_, moment, started) => {
      const run = npmStart();
      await until("the moment", run, moment(run));

      const code = await ctrlC(run);

      expect(await left(run)).toEqual([]);
      expect([...run.names]).toEqual(expect.arrayContaining(started));
      expect(fs.existsSync(stateFile)).toBe(false);
      expect(run.output()).toMatch(/SIGINT: stopping every component/);
      expect(run.output()).not.toMatch(/floodgate is up/);
      expect(code).toBe(130);
    },
    150_000,
  );

  it("keeps starting after the reader of its output exits, and then stops on Ctrl-C", async () => {
    const run = npmStartPipedIntoHead();
    // The API starts well after `head` has read its 100 bytes and gone: every line since failed with EPIPE.
    await until("the API in the state file", run, stateLists(/^api-/));
    expect(Buffer.byteLength(run.output())).toBe(100);

    const code = await ctrlC(run);

    expect(await left(run)).toEqual([]);
    expect(fs.existsSync(stateFile)).toBe(false);
    expect(code).toBe(130);
  }, 150_000);

  it("stack stop kills a stopped (SIGSTOP) owner after its --timeout and stops the recorded processes itself", async () => {
    const run = npmStart();
    await until("redis cluster", run, sawLine(run, /redis cluster ok/));
    const owner = readState(stateFile)!.ownerPid;
    process.kill(owner, "SIGSTOP");
    run.recordPids();

    const began = Date.now();
    const stopped = stackCli("stop", "--timeout", "2");
    const tookMs = Date.now() - began;

    expect(stopped.stdout).toMatch(/owner \(pid \d+\) is stopped \(SIGSTOP\) within 2 s: killing it/);
    expect(stopped.stdout).toMatch(/stopped what the owner left running: .*redis-1/);
    expect(stopped.status).toBe(0);
    // 2 s for the owner, then the stores' phase: at most its longest stop timeout (RabbitMQ's 30 s; a broker
    // still booting ignores SIGTERM) before the SIGKILL.
    expect(tookMs).toBeLessThan(45_000);
    expect(await run.exited).not.toBe(0);
    expect(await left(run)).toEqual([]);
  }, 150_000);
});
