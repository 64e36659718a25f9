import { startStack, type RunningStack } from "../../infra/targets/local/stack";
import { repoRoot, testLayout, testTopology } from "./test-stack";

declare global {
  var floodgateTestStack: RunningStack | undefined;
}

/** Start a fresh test stack once for all integration tests. */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const log = (m: string) =>
    process.stdout.write(`  [test-stack +${((Date.now() - started) / 1000).toFixed(1)}s] ${m}\n`);
  process.stdout.write("\n");
  globalThis.floodgateTestStack = await startStack(testTopology(), {
    root: testLayout().root,
    repoRoot,
    fresh: true,
    progress: log,
  });
  log("test stack up");
}
