import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { command, waitUntil } from "./shell";

describe("command (zx's $)", () => {
  it("answers with stdout, reading its input on stdin and its environment added to ours", async () => {
    expect(await command("sh", ["-c", 'cat; printf " %s" "$SECRET"'], { input: "sql", env: { SECRET: "pw" } })).toBe(
      "sql pw",
    );
  });

  it("quotes every argument: a shell expression in one is text, never run", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shell-test-"));
    const marker = path.join(dir, "ran");
    try {
      expect(await command("echo", [`$(touch ${marker})`, "a b"])).toBe(`$(touch ${marker}) a b\n`);
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails naming the program, its first arguments and its stderr", async () => {
    await expect(command("sh", ["-c", "echo refused >&2; exit 3"])).rejects.toThrow(/^sh -c echo refused.*: refused$/);
    await expect(command("sh", ["-c", "exit 4"])).rejects.toThrow(/: exit 4$/);
  });

  it("takes a command that exits without reading a large input as its exit code, not a crash", async () => {
    const big = Readable.from([Buffer.alloc(8 * 1024 * 1024, "x")]);
    await expect(command("sh", ["-c", "echo gone >&2; exit 1"], { input: big })).rejects.toThrow(/: gone$/);
  });

  it("kills a command that outlives its timeout", async () => {
    const started = Date.now();
    await expect(command("sleep", ["20"], { timeoutMs: 300 })).rejects.toThrow(/killed by SIGTERM/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("waitUntil (zx's retry)", () => {
  it("asks again until the probe says true, a throwing probe counting as not yet", async () => {
    let asked = 0;
    await waitUntil(
      "x",
      async () => {
        asked += 1;
        if (asked === 1) throw new Error("refused");
        return asked >= 3;
      },
      { timeoutMs: 5000, intervalMs: 10 },
    );
    expect(asked).toBe(3);
  });

  it("gives up after its time with what the last look saw", async () => {
    const started = Date.now();
    await expect(
      waitUntil("the replica", () => Promise.reject(new Error("connection refused\nsecond line")), {
        timeoutMs: 200,
        intervalMs: 20,
      }),
    ).rejects.toThrow(/^the replica not ready after 0.2 s: connection refused$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });
});
