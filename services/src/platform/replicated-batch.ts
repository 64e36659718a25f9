import type { Cluster } from "ioredis";
import { zip } from "./checked";
import { shaOf } from "./lua";

/** How long a replica has to acknowledge a write before its outcome counts as unknown. */
export const REPLICATION_TIMEOUT_MS = 250;

/** The write ran on the master, but no replica confirmed it in time: a failover now could lose it. */
export class NotReplicatedError extends Error {
  constructor() {
    super(`no replica acknowledged the write within ${REPLICATION_TIMEOUT_MS} ms`);
    this.name = "NotReplicatedError";
  }
}

/** One script run of a replicated batch: its own error or value, and whether a replica holds it. */
export interface ReplicatedResult {
  err: Error | null;
  value: unknown;
  replicated: boolean;
}

/**
 * Whether a WAIT's answer means the writes before it are on a replica: at least one acknowledged, or
 * the cluster was built without replicas (nothing to wait for: a topology choice, not a fault).
 */
export function replicatedBy(acks: unknown, replicaNodes: number): boolean {
  return Number(acks) >= 1 || replicaNodes === 0;
}

/** The runs a node answered NOSCRIPT (it does not know the script's SHA1 yet): they go again by body. */
export function unknownScripts(results: Array<{ err: Error | null }>): number[] {
  return results.flatMap((r, i) => (r.err?.message.startsWith("NOSCRIPT") ? [i] : []));
}

/**
 * Run a script once per argument list, then one `WAIT 1`, in one pipeline on the keys' master (a
 * keyless WAIT rides with the keyed scripts, and covers every write sent before it on the
 * connection). Scripts go by SHA1; the ones a node does not know (NOSCRIPT: its first run there,
 * or a promoted replica) run again by body, with their own WAIT. A failed pipeline rejects; a
 * script's own error comes back in its result.
 */
export async function runReplicatedBatch(
  redis: Cluster,
  script: string,
  keys: readonly string[],
  argLists: Array<Array<string | number>>,
  byBody = false,
): Promise<ReplicatedResult[]> {
  const pipeline = redis.pipeline();
  for (const args of argLists) {
    const argv = [...keys, ...args.map(String)];
    if (byBody) pipeline.eval(script, keys.length, ...argv);
    else pipeline.evalsha(shaOf(script), keys.length, ...argv);
  }
  const results = await pipeline.wait(1, REPLICATION_TIMEOUT_MS).exec();
  // exec() answers null only for a MULTI aborted by WATCH; a plain pipeline always has results.
  if (!results) throw new Error("the replicated batch's pipeline returned no results");
  const waited = results[argLists.length];
  if (!waited)
    throw new Error(`the replicated batch's pipeline answered ${results.length} of ${argLists.length + 1} commands`);
  const [waitErr, acks] = waited;
  if (waitErr) throw waitErr;
  const replicated = replicatedBy(acks, redis.nodes("slave").length);
  const out = results.slice(0, argLists.length).map(([err, value]) => ({ err, value, replicated }));
  const unknown = new Set(unknownScripts(out));
  if (unknown.size > 0 && !byBody) {
    const again = await runReplicatedBatch(
      redis,
      script,
      keys,
      argLists.filter((_, i) => unknown.has(i)),
      true,
    );
    // One result per run sent again, in order: each takes its run's place.
    const retried = zip([...unknown], again, "the runs sent again by body and their results");
    for (const [i, result] of retried) out[i] = result;
  }
  return out;
}

/** A call's arguments, or a function that makes them as its batch is sent (for values that age, like deadlines). */
export type BatchArgs = Array<string | number> | (() => Array<string | number>);

interface Queued {
  args: BatchArgs;
  resolve: (result: { value: unknown; replicated: boolean }) => void;
  reject: (err: unknown) => void;
}

/**
 * Group-commits one script: the calls on the same keys (one slot, so one master) that arrive in the
 * same turn of the event loop go as one `runReplicatedBatch` — each its own script run, then one
 * WAIT for all of them. At most one batch per keys is in flight: WAIT blocks its connection until a
 * replica acknowledges, so what arrives meanwhile waits and goes as the next batch (bigger batches
 * under a storm, not a queue of WAITs each holding up the next). Alone, a call waits for nothing but
 * its own turn.
 */
export class ReplicatedTurnBatcher {
  private readonly queued = new Map<string, { keys: readonly string[]; calls: Queued[] }>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly redis: Cluster,
    private readonly script: string,
  ) {}

  /** Run the script on `keys` with `args` in this turn's batch; resolves with its value and whether a replica holds it. */
  run(keys: readonly string[], args: BatchArgs): Promise<{ value: unknown; replicated: boolean }> {
    return new Promise((resolve, reject) => {
      const id = keys.join(" ");
      let batch = this.queued.get(id);
      if (!batch) {
        this.queued.set(id, (batch = { keys, calls: [] }));
        // After the poll phase: every call read from a socket in this turn joins the pipeline.
        if (!this.inFlight.has(id)) setImmediate(() => this.flush(id));
      }
      batch.calls.push({ args, resolve, reject });
    });
  }

  private flush(id: string): void {
    const batch = this.queued.get(id);
    if (!batch || this.inFlight.has(id)) return;
    const { keys, calls } = batch;
    this.queued.delete(id);
    this.inFlight.add(id);
    runReplicatedBatch(
      this.redis,
      this.script,
      keys,
      calls.map((c) => (typeof c.args === "function" ? c.args() : c.args)),
    )
      .then((results) => {
        for (const [call, r] of zip(calls, results, "the batch's calls and results"))
          if (r.err) call.reject(r.err);
          else call.resolve(r);
      })
      // A failed pipeline (or results that do not pair up with the calls) fails every call of the batch.
      .catch((err: unknown) => calls.forEach((c) => c.reject(err)))
      .finally(() => {
        this.inFlight.delete(id);
        if (this.queued.has(id)) this.flush(id); // what arrived during this batch goes next
      });
  }
}
