import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { describeS3Error } from "../platform/s3-client";

/** A sync loop's settings. */
export interface SyncLoopOptions {
  intervalMs: number;
  /** Rewritten after each pass that completed without a failure; the health check reads its age. */
  heartbeatFile: string;
  /** One pass: resolves true when it completed without a failure. */
  pass: () => Promise<boolean>;
  /** Called with a pass that threw, described as a log line may show it. */
  onError: (error: string) => void;
  /** Ends the loop after the current pass. */
  signal: AbortSignal;
}

/**
 * Runs `pass` every `intervalMs` until `signal` aborts. A pass that throws (the S3 API down, the
 * folder missing) is reported and the loop goes on; while passes fail the heartbeat ages, so the
 * container turns unhealthy instead of pretending to sync.
 */
export async function runSyncLoop(opts: SyncLoopOptions): Promise<void> {
  while (!opts.signal.aborted) {
    let ok = false;
    try {
      ok = await opts.pass();
    } catch (err) {
      opts.onError(describeS3Error(err));
    }
    if (ok) await fs.writeFile(opts.heartbeatFile, `${new Date().toISOString()}\n`);
    await sleep(opts.intervalMs, undefined, { signal: opts.signal }).catch(() => undefined);
  }
}
