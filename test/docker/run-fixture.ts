import { execFile } from "node:child_process";
import path from "node:path";
import type { EngineObject, JobResult } from "../support/engine-provider";

/** How a fixture program ran: its exit code, output and the provider's record (its last stdout line). */
export interface FixtureRun {
  code: number | null;
  stdout: string;
  stderr: string;
  record: {
    created: EngineObject[];
    jobs: Record<string, JobResult>;
    failures: string[];
    outputs?: Record<string, string>;
  };
  seconds: number;
}

/**
 * Run a fixture of this folder (a program under the engine provider, runAsProgram) in a process of
 * its own, as `pulumi up` runs a program; resolves however it ends (a record missing: `{}`).
 */
export function runFixture(fixture: string, args: string[], timeoutMs: number): Promise<FixtureRun> {
  const started = Date.now();
  const file = path.join(__dirname, fixture);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", file, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        let record = {} as FixtureRun["record"];
        try {
          record = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as FixtureRun["record"];
        } catch {
          // no record: the program died before printing it; the caller shows stderr
        }
        resolve({
          code: err ? (typeof err.code === "number" ? err.code : null) : 0,
          stdout,
          stderr,
          record,
          seconds: (Date.now() - started) / 1000,
        });
      },
    );
  });
}
