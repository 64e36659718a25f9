import { persistGrabs, type AdmittedGrab } from "../../modules/red-packets/grab-ledger";
import { parseGrabItem } from "../../modules/red-packets/keys";
import type { PacketStore } from "../../modules/red-packets/packet-store";
import { workerLag, workerMessages, type Consumer, type WorkerContext } from "../runtime";
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
    const parsed = items.map((item) => ({ item, grab: parseGrabItem(item) }));
    const malformed = parsed.filter((p) => !p.grab).map((p) => p.item);
    const valid = parsed.flatMap((p) => (p.grab ? [{ item: p.item, grab: p.grab }] : []));
    const admitted: AdmittedGrab[] = valid.map((v) => ({ userId: v.grab.userId, cents: v.grab.amountCents }));
    const outcomes = admitted.length > 0 ? await persistGrabs(db, packetId, admitted) : [];
    const done = valid.flatMap((v, i) => {
      const outcome = outcomes[i];
      if (!(outcome instanceof Error)) return [{ ...v, outcome }];
      count("failed");
      ctx.log.warn({ packetId, item: v.item, err: outcome.message }, "grab not persisted; the reaper retries it");
      return [];
    });
    // One script drops every committed grab from processing; malformed and refused ones go to the dead list.
    await store.settle(packetId, [
      ...malformed.map((item) => ({ item, dead: true })),
      ...done.map((d) => ({ item: d.item, dead: d.outcome === "rejected" })),
    ]);
    if (malformed.length > 0) count("dead_lettered", malformed.length);
    for (const d of done) {
      if (d.outcome === "rejected") {
        count("dead_lettered");
        ctx.log.error({ packetId, item: d.item }, "MySQL refused an admitted grab");
        continue;
      }
      count("processed");
      if (d.outcome === "persisted")
        workerLag.observe({ queue: GRABS_QUEUE }, (Date.now() - d.grab.admittedAtMs) / 1000);
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
