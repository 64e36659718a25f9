import type { PacketStore } from "../../modules/red-packets/packet-store";
import { refundPacket } from "../../modules/red-packets/refund";
import { Gauge } from "prom-client";
import { expiredUnrefunded, oldestRefundOverdueSeconds } from "../../modules/red-packets/repository";
import { workerMessages, type WorkerContext } from "../runtime";
import { GRABS_QUEUE } from "./grab-consumer";
import type { PacketWatch } from "./packet-watch";
import { every, type Periodic } from "../periodic";

/** Grabs claimed longer than this are presumed abandoned (their worker died) and requeued. */
export const REAP_AFTER_MS = 5000;
/** What the RedPacketRefundOverdue alert watches: refunds that should have run by now. */
export const refundOverdue = new Gauge({
  name: "floodgate_red_packets_refund_overdue_seconds",
  help: "Seconds since the oldest expired, unrefunded red packet expired (0 when none), after the last upkeep run",
});

/** How long a retired packet's keys linger. */
const RETIRED_TTL_SECONDS = 3600;

/**
 * Every `intervalMs`: requeue abandoned grabs of every active packet, refund expired packets and
 * retire drained closed ones. Lock-free: every step is an atomic Lua script or guarded by MySQL
 * (refunded_at IS NULL), so any number of workers may run it at once.
 */
export function startUpkeepJob(
  ctx: WorkerContext,
  store: PacketStore,
  watch: PacketWatch,
  intervalMs = 1000,
): Periodic {
  const runOnce = async () => {
    const now = Date.now();
    for (const packetId of watch.activeIds()) {
      const moved = await store.reap(packetId, now, REAP_AFTER_MS);
      if (moved > 0) {
        workerMessages.inc({ queue: GRABS_QUEUE, outcome: "retried" }, moved);
        ctx.log.warn({ packetId, moved }, "requeued abandoned red-packet grabs");
      }
    }
    for (const packetId of await expiredUnrefunded(ctx.platform.db)) {
      // One packet that cannot be refunded now (Redis unreachable for its slot) must not hold up the others.
      await refundPacket({ db: ctx.platform.db, store, log: ctx.log }, packetId).then(
        (result) => result.outcome === "refunded" && ctx.log.info({ packetId, cents: result.cents }, "refunded"),
        (err: Error) => ctx.log.warn({ packetId, err: err.message }, "red packet refund postponed"),
      );
    }
    refundOverdue.set(await oldestRefundOverdueSeconds(ctx.platform.db));
    // Refunded packets whose queue was still busy at refund time are retired here once drained.
    for (const packetId of await store.activeIdsExpiredBy(now)) await store.retire(packetId, RETIRED_TTL_SECONDS);
  };
  return every(intervalMs, "red-packet upkeep", ctx.log, runOnce);
}
