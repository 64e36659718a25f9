import { WORKER_ENTRY_POINTS, WORKER_KINDS, workerName } from "../../../topology";
import type { StackContext } from "../context";
import { BACKGROUND_NICE, startNodeService } from "./api";

/** Start every queue worker the topology asks for; each serves /health and /metrics on its own port. */
export async function startWorkers(ctx: StackContext): Promise<void> {
  await Promise.all(
    WORKER_KINDS.flatMap((kind) =>
      ctx.addresses.workers[kind].map((address, i) =>
        startNodeService(ctx, {
          name: workerName(kind, i),
          entry: `${WORKER_ENTRY_POINTS[kind]}.ts`,
          address,
          healthPath: "/health",
          concurrency: ctx.topology.workers[kind].concurrency,
          nice: BACKGROUND_NICE,
        }),
      ),
    ),
  );
}
