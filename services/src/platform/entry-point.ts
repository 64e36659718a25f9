/** The exit code of a process started with an invalid environment (sysexits' EX_CONFIG). */
export const EX_CONFIG = 78;

/**
 * Run a process's entry point: its environment loaded by `loadEnv` (a bad one is printed, without
 * a stack, and exits EX_CONFIG), then `main`, whose result is the exit code; a throw prints its
 * stack and exits 1.
 */
export function runMain<E>(loadEnv: () => E, main: (env: E) => Promise<number>): void {
  let env: E;
  try {
    env = loadEnv();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(EX_CONFIG);
  }
  main(env).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
