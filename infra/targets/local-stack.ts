/**
 * A local stack for a bench or a chaos run: started in a folder of its own, or the one already
 * running there reused, and handed over as a Target (target.ts) like any other. Apart from index.ts
 * so that a runbook, which never starts a stack, does not load the stack's start-up code.
 */
import type { Topology } from "../topology";
import { StackLayout } from "./local/context";
import { startStack } from "./local/stack";
import { readState } from "./local/state";
import { isAlive } from "./local/supervisor";
import { localTarget } from "./local/target";
import type { Target } from "./target";

/** Where and how to get the stack: its folder, the repository it runs from, and whether a running one will do. */
export interface LocalStackOptions {
  root: string;
  repoRoot: string;
  /** Reuse the stack running in `root` (its owner alive) instead of starting a fresh one. */
  reuse: boolean;
  progress: (message: string) => void;
}

/** A local stack as a Target; `stop` stops it only when this call started it. */
export interface LocalStack {
  target: Target;
  reused: boolean;
  stop: () => Promise<void>;
}

/** Start a stack for `topology` in `opts.root`, or reuse the one already running there. */
export async function startLocalStack(topology: Topology, opts: LocalStackOptions): Promise<LocalStack> {
  const state = readState(new StackLayout(opts.root).stateFile);
  if (opts.reuse && state && isAlive(state.ownerPid)) {
    opts.progress(`reusing the stack in ${opts.root} (owner pid ${state.ownerPid})`);
    return { target: localTarget(opts.root), reused: true, stop: async () => undefined };
  }
  const running = await startStack(topology, {
    root: opts.root,
    repoRoot: opts.repoRoot,
    fresh: true,
    progress: opts.progress,
  });
  return { target: localTarget(opts.root), reused: false, stop: () => running.stop() };
}
