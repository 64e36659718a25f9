import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { first } from "../../../test/support/checked";
import { StackControl, startControlServer } from "./control";
import { isAlive, Supervisor } from "./supervisor";

describe("the stack's control socket", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floodgate-control-"));
  const socket = path.join(dir, "control.sock");
  const supervisor = new Supervisor();
  let close: () => Promise<void>;
  const control = new StackControl(socket);

  beforeAll(async () => {
    supervisor.start({ name: "sleeper", command: "sleep", args: ["600"], logFile: path.join(dir, "sleeper.log") });
    close = await startControlServer(socket, supervisor);
  });
  afterAll(async () => {
    await close();
    await supervisor.stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("is a socket only this user can use", () => {
    const st = fs.statSync(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it("stops a process by name and starts it again with the same spec; both are idempotent", async () => {
    const before = first(await control.list(), "a listed process");
    expect(before).toMatchObject({ name: "sleeper", running: true });
    expect(await control.stop("sleeper")).toEqual({ name: "sleeper", pid: null, running: false });
    expect(isAlive(before.pid!)).toBe(false);
    expect(await control.stop("sleeper")).toMatchObject({ running: false });
    const again = await control.start("sleeper");
    expect(again.running).toBe(true);
    expect(again.pid).not.toBe(before.pid);
    expect(isAlive(again.pid!)).toBe(true);
    expect((await control.start("sleeper")).pid).toBe(again.pid);
    expect(supervisor.processes.get("sleeper")?.spec.args).toEqual(["600"]);
  });

  it("starts again a process that died on its own", async () => {
    const before = supervisor.processes.get("sleeper")!;
    process.kill(before.pid, "SIGKILL");
    while (!before.exited) await new Promise((r) => setTimeout(r, 20));
    expect(await control.list()).toEqual([{ name: "sleeper", pid: null, running: false }]);
    expect((await control.start("sleeper")).running).toBe(true);
  });

  it("answers 404 for a name the stack never ran", async () => {
    await expect(control.start("nope")).rejects.toThrow(/HTTP 404 .*unknown_process/);
  });

  it("says where it looked when nobody listens", async () => {
    await expect(new StackControl(path.join(dir, "absent.sock")).list()).rejects.toThrow(/absent\.sock.*owner/);
  });
});
