import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import mysql from "mysql2/promise";
import YAML from "yaml";
import { localAddresses, parseTopology, withPortOffset } from "../../infra/topology";
import { readState } from "../../infra/targets/local/state";
import { isAlive } from "../../infra/targets/local/supervisor";
import { eventually, getJson } from "./clients";
import { repoRoot } from "./test-stack";

// `npm start` exactly as a developer runs it (bootstrap.js → Node 24 → the stack CLI), on its own
// ports (+3000; +2000 would put nginx on 10080, a port fetch refuses) and state folder so it runs beside the shared test stack.
const topology = withPortOffset(parseTopology({}), 3000);
const addresses = localAddresses(topology);
const stateDir = path.join(repoRoot, ".floodgate", "test-cli");
const topologyFile = path.join(repoRoot, ".floodgate", "test-cli-topology.yaml");

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

async function npmStart(): Promise<Started> {
  let output = "";
  const child = spawn(
    process.execPath,
    ["scripts/bootstrap.js", "stack", "up", "--topology", topologyFile, "--state-dir", stateDir],
    {
      cwd: repoRoot,
      detached: true, // its own process group, like a terminal's foreground job
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await eventually(async () => (output.includes("floodgate is up") ? true : undefined), 120_000, 250).catch(
    (err: Error) => {
      throw new Error(`${err.message}\n--- output ---\n${output}`);
    },
  );
  return { child, output: () => output, exited };
}

/** Ctrl-C: SIGINT to the whole foreground process group, as a terminal sends it. */
async function ctrlC(started: Started): Promise<number | null> {
  process.kill(-started.child.pid!, "SIGINT");
  return started.exited;
}

function processesMentioning(text: string): string[] {
  return fs.readdirSync("/proc").flatMap((pid) => {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) return [];
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      return cmdline.includes(text) ? [`${pid}: ${cmdline}`] : [];
    } catch {
      return [];
    }
  });
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

/** The stack CLI (`npm run stack -- …`) against this test's state folder. */
const stackCli = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "infra/targets/local/main.ts", ...args, "--state-dir", stateDir], {
    cwd: repoRoot,
    encoding: "utf8",
  });

/** A process's nice value (field 19 of /proc/PID/stat; the fields after the command name start at 3). */
function niceness(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

describe("npm start", () => {
  beforeAll(() => {
    fs.rmSync(stateDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(topologyFile), { recursive: true });
    fs.writeFileSync(topologyFile, YAML.stringify(topology));
  });

  afterAll(() => {
    // Whatever a failed assertion left running.
    stackCli("stop");
  });

  it("serves a healthy API, stops everything on Ctrl-C, and reuses its data on the next start", async () => {
    const first = await npmStart();
    expect(first.output()).toMatch(/component\s+pid\s+address\s+status/);
    const health = await getJson<{ status: string }>(`http://127.0.0.1:${addresses.nginx.port}/api/v1/health`);
    expect(health).toMatchObject({ status: 200, body: { status: "ok" } });

    const status = stackCli("status");
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/mysql-primary .* running/);

    // Work that may lag behind a burst yields the CPU: queue workers and the tracker run niced, the API not.
    const processes = readState(path.join(stateDir, "stack.json"))!.processes;
    const nicer = (name: string) => niceness(processes.find((p) => p.name === name)!.pid) - niceness(process.pid);
    expect(["worker-orders-1", "worker-red-packet-grabs-1", "tracker", "api-1", "api-2"].map(nicer)).toEqual([
      10, 10, 10, 0, 0,
    ]);

    // One process stopped and started again through the owner's control socket, same spec.
    const worker = () =>
      readState(path.join(stateDir, "stack.json"))!.processes.find((p) => p.name === "worker-orders-1");
    const before = worker()!.pid;
    const stopped = stackCli("stop", "worker-orders-1");
    expect([stopped.status, stopped.stdout]).toEqual([0, "worker-orders-1: stopped\n"]);
    expect(isAlive(before)).toBe(false);
    expect(worker()).toBeUndefined();
    const restarted = stackCli("start", "worker-orders-1");
    expect(restarted.status).toBe(0);
    expect(restarted.stdout).toMatch(/^worker-orders-1: running, pid \d+/);
    expect(isAlive(worker()!.pid)).toBe(true);
    expect(worker()!.pid).not.toBe(before);
    expect(niceness(worker()!.pid) - niceness(process.pid)).toBe(10);
    const unknown = stackCli("start", "worker-nope-1");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown component worker-nope-1; components: .*worker-orders-1/);

    const { name, password } = topology.mysql.users.migrator;
    const connect = () =>
      mysql.createConnection({ ...addresses.mysqlPrimary, user: name, password, database: topology.mysql.database });
    const marker = randomUUID();
    const db = await connect();
    await db.query("CREATE TABLE IF NOT EXISTS restart_marker (id CHAR(36) PRIMARY KEY)");
    await db.query("INSERT INTO restart_marker VALUES (?)", [marker]);
    await db.end();
    const pids = readState(path.join(stateDir, "stack.json"))!.processes.map((p) => p.pid);
    expect(pids.length).toBeGreaterThanOrEqual(19);

    expect(await ctrlC(first)).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(processesMentioning(stateDir)).toEqual([]);
    expect(await portOpen(topology.rabbitmq.epmdPort)).toBe(false);
    expect(fs.existsSync(path.join(stateDir, "stack.json"))).toBe(false);

    const second = await npmStart();
    expect(second.output()).not.toMatch(/initialising a new data directory/);
    const again = await connect();
    const [rows] = await again.query<mysql.RowDataPacket[]>("SELECT id FROM restart_marker WHERE id = ?", [marker]);
    await again.end();
    expect(rows).toHaveLength(1);
    expect(await ctrlC(second)).toBe(0);
    expect(processesMentioning(stateDir)).toEqual([]);
  }, 300_000);
});
