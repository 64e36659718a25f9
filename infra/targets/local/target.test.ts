import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseTopology } from "../../topology";
import { first, present } from "../../../test/support/checked";
import type { Target } from "../target";
import { StackLayout } from "./context";
import { startControlServer } from "./control";
import { writeState } from "./state";
import { isAlive, Supervisor } from "./supervisor";
import { localTarget } from "./target";

// A real supervisor and control socket in a temp folder, recorded in a state file as a running
// stack records itself: the local Target finds it there and signals real processes.

/** A process's state letter from /proc (S sleeping, T stopped…). */
const procState = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat[stat.lastIndexOf(")") + 2];
};
const childrenOf = (pid: number) =>
  fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the local stack's Target: its processes' signals", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floodgate-local-target-"));
  const layout = new StackLayout(dir);
  const supervisor = new Supervisor();
  let close: () => Promise<void>;
  let target: Target;
  const wrapper = async () =>
    present(
      (await target.control.list()).find((p) => p.name === "wrapper"),
      "wrapper",
    );

  beforeAll(async () => {
    const socket = path.join(dir, "control.sock");
    // A wrapper script and its child, like RabbitMQ's; restarted like a stateless process.
    supervisor.start({
      name: "wrapper",
      command: "sh",
      args: ["-c", "sleep 600 & wait"],
      logFile: layout.log("wrapper"),
      restart: true,
      restartDelayMs: 50,
    });
    close = await startControlServer(socket, supervisor);
    writeState(layout.stateFile, {
      ownerPid: process.pid,
      root: dir,
      startedAt: new Date().toISOString(),
      epmdPort: 0,
      topology: parseTopology({}),
      controlSocket: socket,
      processes: [],
    });
    target = localTarget(dir);
  });
  afterAll(async () => {
    await close();
    await supervisor.stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("lists a running process with its pid as its instance and as the pid this machine sees", async () => {
    const pid = supervisor.processes.get("wrapper")!.pid;
    expect(await target.control.list()).toEqual([
      { name: "wrapper", running: true, detail: `pid ${pid}`, instance: String(pid), hostPid: pid },
    ]);
  });

  it("freezes the whole process group with SIGSTOP and thaws it with SIGCONT", async () => {
    const { hostPid } = await wrapper();
    const pid = present(hostPid, "the wrapper's pid");
    const child = first(
      await until(async () => (childrenOf(pid).length ? childrenOf(pid) : undefined), "the wrapper's child"),
      "child",
    );
    const states = (want: string) => async () =>
      [procState(pid), procState(child)].every((s) => s === want) ? true : undefined;
    await target.control.signal("wrapper", "SIGSTOP");
    expect(await until(states("T"), "both stopped")).toBe(true);
    await target.control.signal("wrapper", "SIGCONT");
    expect(await until(states("S"), "both running again")).toBe(true);
  });

  it("kills the wrapper and its child with SIGKILL; the restarted process is a new instance", async () => {
    const before = await wrapper();
    const pid = present(before.hostPid, "the wrapper's pid");
    const child = first(childrenOf(pid), "the wrapper's child");
    await target.control.signal("wrapper", "SIGKILL");
    await until(async () => (!isAlive(pid) && !isAlive(child) ? true : undefined), "both gone");
    const after = await until(async () => {
      const p = await wrapper();
      return p.running && p.instance !== before.instance ? p : undefined;
    }, "a new instance");
    expect(isAlive(present(after.hostPid, "the new pid"))).toBe(true);
  });

  it("names the processes it has when asked to signal one it does not", async () => {
    await expect(target.control.signal("nope", "SIGKILL")).rejects.toThrow(/no process nope .*it has wrapper/);
  });
});
