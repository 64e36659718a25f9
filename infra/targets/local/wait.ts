/** Poll `probe` until it returns true; fail with the last error after `timeoutMs`, or at once when `gone()` says the process died. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; gone?: () => string | null },
): Promise<number> {
  const started = Date.now();
  let lastError = "not ready";
  for (;;) {
    const died = opts.gone?.();
    if (died) throw new Error(`${what} failed: ${died}`);
    try {
      if (await probe()) return Date.now() - started;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() - started > opts.timeoutMs) {
      throw new Error(`${what} not ready after ${opts.timeoutMs} ms: ${lastError}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
