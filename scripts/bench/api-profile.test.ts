import { spawn } from "node:child_process";
import { groupOf, profileProcess, summarize } from "./api-profile";

const frame = (functionName: string, url = "") => ({ functionName, url });

describe("groupOf", () => {
  it.each([
    [frame("sendCommand", "file:///app/node_modules/ioredis/built/Redis.js"), "ioredis"],
    [frame("compose", "/app/node_modules/@koa/router/lib/router.js"), "@koa/router"],
    [frame("take", "/app/services/src/platform/batched-limiter.ts"), "services/src/platform/batched-limiter.ts"],
    [frame("writeGeneric", "node:internal/stream_base_commons"), "node:internal/stream_base_commons"],
    [frame("(garbage collector)"), "(garbage collector)"],
    [frame("writev"), "native writev"],
    [frame(""), "native (anonymous)"],
  ])("puts %o in %s", (f, group) => {
    expect(groupOf(f)).toBe(group);
  });
});

describe("summarize", () => {
  it("counts self time per group as a share of the busy samples, and idle apart", () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2, 3, 4, 5] },
        { id: 2, callFrame: frame("(idle)") },
        { id: 3, callFrame: frame("sendCommand", "/a/node_modules/ioredis/built/Redis.js") },
        { id: 4, callFrame: frame("(garbage collector)") },
        { id: 5, callFrame: frame("handler", "/a/services/src/app.ts") },
      ],
      samples: [2, 2, 2, 2, 3, 3, 3, 4, 5, 5],
    };
    const s = summarize("api-1", profile);
    expect(s.process).toBe("api-1");
    expect(s.busyShare).toBeCloseTo(0.6);
    expect(Object.keys(s.top)).toEqual(["ioredis", "services/src/app.ts", "(garbage collector)"]);
    expect(s.top.ioredis).toBeCloseTo(0.5);
    expect(s.top["services/src/app.ts"]).toBeCloseTo(1 / 3);
  });

  it("reports an idle or empty profile as 0% busy", () => {
    expect(summarize("api-1", { nodes: [{ id: 1, callFrame: frame("(idle)") }], samples: [1, 1] })).toEqual({
      process: "api-1",
      busyShare: 0,
      top: {},
    });
    expect(summarize("api-1", { nodes: [], samples: [] }).busyShare).toBe(0);
  });
});

describe("profileProcess", () => {
  it("samples a running Node process through its inspector, then closes the inspector", async () => {
    // A process that burns CPU in a named function between timer ticks.
    const child = spawn(
      process.execPath,
      ["-e", "function burn() { const end = Date.now() + 5; while (Date.now() < end); } setInterval(burn, 10);"],
      { stdio: "ignore" },
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      const { result, profile } = await profileProcess(child.pid!, "burner", async () => {
        await new Promise((r) => setTimeout(r, 1000));
        return "done";
      });
      expect(result).toBe("done");
      expect(profile.process).toBe("burner");
      expect(profile.busyShare).toBeGreaterThan(0.2);
      expect(Object.keys(profile.top).length).toBeGreaterThan(0);
      // The inspector is closed again: nothing answers on its port.
      await expect(fetch("http://127.0.0.1:9229/json/list")).rejects.toThrow();
    } finally {
      child.kill("SIGKILL");
    }
  });
});
