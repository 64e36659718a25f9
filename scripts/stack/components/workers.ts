import { WORKER_KINDS, type WorkerKind } from "../../../infra/topology";
import type { StackContext } from "../context";
import { BACKGROUND_NICE, startNodeService } from "./api";

/** The entry file (under services/src/main/) that runs each worker kind. */
export const WORKER_ENTRIES: Record<WorkerKind, string> = {
  orders: "orders-worker.ts",
  redPacketGrabs: "red-packet-worker.ts",
};

const kebab = (kind: WorkerKind) => kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Start every queue worker the topology asks for; each serves /health and /metrics on its own port. */
export async function startWorkers(ctx: StackContext): Promise<void> {
  await Promise.all(
    WORKER_KINDS.flatMap((kind) =>
      ctx.addresses.workers[kind].map((address, i) =>
        startNodeService(ctx, {
          name: `worker-${kebab(kind)}-${i + 1}`,
          entry: WORKER_ENTRIES[kind],
          address,
          healthPath: "/health",
          concurrency: ctx.topology.workers[kind].concurrency,
          nice: BACKGROUND_NICE,
        }),
      ),
    ),
  );
}
