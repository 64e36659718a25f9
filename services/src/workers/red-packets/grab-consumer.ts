import { persistGrab } from "../../modules/red-packets/grab-ledger";
import { parseGrabItem } from "../../modules/red-packets/keys";
import type { PacketStore } from "../../modules/red-packets/packet-store";
import { workerLag, workerMessages, type Consumer, type WorkerContext } from "../runtime";
import { PacketWatch } from "./packet-watch";

/** The queue label of red-packet grabs in the worker metrics. */
export const GRABS_QUEUE = "red-packet-grabs";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (outcome: string) => workerMessages.inc({ queue: GRABS_QUEUE, outcome });

/**
 * WORKER_CONCURRENCY loops, each claiming admitted grabs (LMOVE queue → processing, on the packet's
 * slot) from the packets the watch says have work, persisting them in one transaction and removing
 * them from processing only after the commit. A failure leaves the item in processing: the reaper
 * requeues it after its timeout, which doubles as a back-off. `stop` stops claiming and waits for
 * in-flight grabs to commit and settle.
 */
export function startGrabConsumer(ctx: WorkerContext, store: PacketStore, watch: PacketWatch): Consumer {
  const { db } = ctx.platform;
  let stopping = false;
  let redisOk = true;

  const handle = async (packetId: number, item: string) => {
    const grab = parseGrabItem(item);
    if (!grab) {
      await store.settle(packetId, item, true);
      count("dead_lettered");
      return;
    }
    let outcome;
    try {
      outcome = await persistGrab(db, packetId, grab.userId, grab.amountCents);
    } catch (err) {
      count("failed");
      ctx.log.warn({ packetId, item, err: (err as Error).message }, "grab not persisted; the reaper retries it");
      return;
    }
    await store.settle(packetId, item, outcome === "rejected");
    if (outcome === "rejected") {
      count("dead_lettered");
      ctx.log.error({ packetId, item }, "MySQL refused an admitted grab");
      return;
    }
    count("processed");
    if (outcome === "persisted") workerLag.observe({ queue: GRABS_QUEUE }, (Date.now() - grab.admittedAtMs) / 1000);
  };

  const loop = async () => {
    while (!stopping) {
      const packetId = watch.next();
      if (packetId === null) {
        await watch.waitForWork(250);
        continue;
      }
      try {
        const claimed = await store.claim(packetId, Date.now());
        redisOk = true;
        if (claimed === null) watch.drained(packetId);
        else if (claimed.replicated) await handle(packetId, claimed.item);
        else {
          // Not on a replica yet: committing it could credit a grab a failover then erases.
          count("retried");
          ctx.log.warn({ packetId, item: claimed.item }, "claimed grab not replicated; the reaper retries it");
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
