import type { StackContext } from "../context";
import { BACKGROUND_NICE, startNodeService } from "./api";

/** Start the tracker (a stateless process: restarted if it dies) and wait until its /health answers 200. */
export function startTracker(ctx: StackContext): Promise<void> {
  return startNodeService(ctx, {
    name: "tracker",
    entry: "tracker.ts",
    address: ctx.addresses.tracker,
    healthPath: "/health",
    nice: BACKGROUND_NICE,
  });
}
