import { persistGrabs, type AdmittedGrab } from "../../modules/red-packets/grab-ledger";
import type { PersistOutcome } from "../../modules/red-packets/grab-ledger";
import { parseGrabItem } from "../../modules/red-packets/keys";
import type { PacketStore } from "../../modules/red-packets/packet-store";
import { workerLag, workerMessages, type Consumer, type WorkerContext } from "../runtime";
import { PacketWatch } from "./packet-watch";

/** The queue label of red-packet grabs in the worker metrics. */
export const GRABS_QUEUE = "red-packet-grabs";

/** Grabs a loop claims and persists at once (one claim script and WAIT, one MySQL transaction). */
export const GRAB_BATCH = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (outcome: string) => workerMessages.inc({ queue: GRABS_QUEUE, outcome });

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

  const settle = async (packetId: number, item: string, outcome: PersistOutcome | Error, admittedAtMs: number) => {
    if (outcome instanceof Error) {
      count("failed");
      ctx.log.warn({ packetId, item, err: outcome.message }, "grab not persisted; the reaper retries it");
      return;
    }
    await store.settle(packetId, item, outcome === "rejected");
    if (outcome === "rejected") {
      count("dead_lettered");
      ctx.log.error({ packetId, item }, "MySQL refused an admitted grab");
      return;
    }
    count("processed");
    if (outcome === "persisted") workerLag.observe({ queue: GRABS_QUEUE }, (Date.now() - admittedAtMs) / 1000);
  };

  const handle = async (packetId: number, items: string[]) => {
    const parsed = items.map((item) => ({ item, grab: parseGrabItem(item) }));
    const malformed = parsed.filter((p) => !p.grab);
    const valid = parsed.flatMap((p) => (p.grab ? [{ item: p.item, grab: p.grab }] : []));
    const admitted: AdmittedGrab[] = valid.map((v) => ({ userId: v.grab.userId, cents: v.grab.amountCents }));
    const outcomes = admitted.length > 0 ? await persistGrabs(db, packetId, admitted) : [];
    await Promise.all([
      ...malformed.map(async (p) => {
        await store.settle(packetId, p.item, true);
        count("dead_lettered");
      }),
      ...valid.map((v, i) => settle(packetId, v.item, outcomes[i], v.grab.admittedAtMs)),
    ]);
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
