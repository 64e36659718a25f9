import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { at } from "../../../test/support/checked";
import { runSyncLoop } from "./sync-loop";

// The loop both sidecars run: passes on an interval, the heartbeat only after a clean pass.

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fg-sync-loop-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Run the loop over `outcomes` (true: clean pass, false: a pass with failures, Error: a pass that threw), then stop. */
async function runOver(outcomes: Array<boolean | Error>) {
  const heartbeatFile = path.join(dir, "heartbeat");
  const stop = new AbortController();
  const errors: string[] = [];
  const beats: boolean[] = [];
  let i = 0;
  await runSyncLoop({
    intervalMs: 10,
    heartbeatFile,
    signal: stop.signal,
    onError: (e) => errors.push(e),
    pass: async () => {
      // What the previous pass left: was the heartbeat written by it?
      if (i > 0) beats.push(fs.existsSync(heartbeatFile));
      if (fs.existsSync(heartbeatFile)) fs.rmSync(heartbeatFile);
      const outcome = at(outcomes, i++, "the outcome of this pass");
      if (i === outcomes.length) stop.abort();
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  });
  beats.push(fs.existsSync(heartbeatFile));
  return { errors, beats, passes: i };
}

describe("runSyncLoop", () => {
  it("writes the heartbeat after each clean pass only, and goes on after a pass that threw", async () => {
    const run = await runOver([true, false, new Error("connect ECONNREFUSED 10.0.0.9:8333"), true]);

    expect(run.passes).toBe(4);
    expect(run.beats).toEqual([true, false, false, true]);
    expect(run.errors).toEqual(["Error: connect ECONNREFUSED 10.0.0.9:8333"]);
  });

  it("stops at once when aborted before it starts", async () => {
    const stop = new AbortController();
    stop.abort();
    let passes = 0;
    await runSyncLoop({
      intervalMs: 10,
      heartbeatFile: path.join(dir, "heartbeat"),
      signal: stop.signal,
      onError: () => undefined,
      pass: async () => ++passes > 0,
    });

    expect(passes).toBe(0);
  });
});
