import type { Logger } from "../platform/log";

/** A periodic job; `stop` waits for the run in flight. */
export interface Periodic {
  stop(): Promise<void>;
}

/** Run `runOnce` every `intervalMs`, never two runs at once; a failed run is logged and the next one tries again. */
export function every(intervalMs: number, name: string, log: Logger, runOnce: () => Promise<void>): Periodic {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= runOnce()
      .catch((err: Error) => log.warn({ err: err.message }, `${name} run failed`))
      .finally(() => (running = null));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
