import { persistGrabs, type AdmittedGrab } from "../../modules/red-packets/grab-ledger";
import type { PacketStore } from "../../modules/red-packets/packet-store";
import { workerLag, workerMessages, type Consumer, type WorkerContext } from "../runtime";
import { grabFates, settlement, sortClaimed } from "./grab-settlement";
import { PacketWatch } from "./packet-watch";

/** The queue label of red-packet grabs in the worker metrics. */
export const GRABS_QUEUE = "red-packet-grabs";

/** Grabs a loop claims and persists at once (one claim script and WAIT, one MySQL transaction). */
export const GRAB_BATCH = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (outcome: string, n = 1) => workerMessages.inc({ queue: GRABS_QUEUE, outcome }, n);

/**
 * WORKER_CONCURRENCY loops, each claiming up to GRAB_BATCH admitted grabs at once (LMOVE queue →
 * processing, on the packet's slot) from the packets the watch says have work, persisting them in
 * one transaction (persistGrabs) and removing each from processing only after its commit. A failure
 * leaves the item in processing: the reaper requeues it after its timeout, which doubles as a
 * back-off. `stop` stops claiming and waits for in-flight grabs to commit and settle.
 */
export function startGrabConsumer(ctx: WorkerContext, store: PacketStore, watch: PacketWatch): Consumer {
  const { db } = ctx.platform;
  let stopping = false;
  let redisOk = true;

  const handle = async (packetId: number, items: string[]) => {
    const { valid, malformed } = sortClaimed(items);
    const admitted: AdmittedGrab[] = valid.map((v) => ({ userId: v.grab.userId, cents: v.grab.amountCents }));
    const fates = grabFates(valid, admitted.length > 0 ? await persistGrabs(db, packetId, admitted) : []);
    for (const fate of fates) {
      if (fate.kind !== "retry") continue;
      count("failed");
      ctx.log.warn(
        { packetId, item: fate.claimed.item, err: fate.err.message },
        "grab not persisted; the reaper retries it",
      );
    }
    // One script drops every committed grab from processing; malformed and refused ones go to the dead list.
    await store.settle(packetId, settlement(malformed, fates));
    if (malformed.length > 0) count("dead_lettered", malformed.length);
    for (const { kind, claimed } of fates) {
      if (kind === "rejected") {
        count("dead_lettered");
        ctx.log.error({ packetId, item: claimed.item }, "MySQL refused an admitted grab");
      } else if (kind !== "retry") {
        count("processed");
        if (kind === "persisted")
          workerLag.observe({ queue: GRABS_QUEUE }, (Date.now() - claimed.grab.admittedAtMs) / 1000);
      }
    }
  };

  const loop = async () => {
    while (!stopping) {
      const packetId = watch.next();
      if (packetId === null) {
        await watch.waitForWork(250);
        continue;
      }
      try {
        const claimed = await store.claimMany(packetId, Date.now(), GRAB_BATCH);
        redisOk = true;
        if (claimed.items.length === 0) watch.drained(packetId);
        else if (claimed.replicated) await handle(packetId, claimed.items);
        else {
          // Not on a replica yet: committing them could credit grabs a failover then erases.
          workerMessages.inc({ queue: GRABS_QUEUE, outcome: "retried" }, claimed.items.length);
          ctx.log.warn(
            { packetId, items: claimed.items.length },
            "claimed grabs not replicated; the reaper retries them",
          );
        }
      } catch (err) {
        redisOk = false;
        ctx.log.debug({ err: (err as Error).message }, "claim failed");
        await sleep(200);
      }
    }
  };
  const loops = Array.from({ length: ctx.concurrency }, loop);
  return {
    healthy: () => redisOk,
    async stop() {
      stopping = true;
      watch.wake();
      await Promise.all(loops);
    },
  };
}
