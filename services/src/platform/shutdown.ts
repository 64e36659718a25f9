import type { Logger } from "./log";

/** One ordered step of a graceful shutdown. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

/**
 * On SIGTERM or SIGINT run the steps in order (readiness → stop accepting → drain → close
 * clients), then exit 0; a force-quit timer exits 1 if draining takes longer than `forceAfterMs`.
 */
export function onShutdown(log: Logger, steps: ShutdownStep[], forceAfterMs = 15_000): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    setTimeout(() => {
      log.error("shutdown took too long; forcing exit");
      process.exit(1);
    }, forceAfterMs).unref();
    for (const step of steps) {
      try {
        await step.run();
      } catch (err) {
        log.warn({ step: step.name, err: (err as Error).message }, "shutdown step failed");
      }
    }
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
