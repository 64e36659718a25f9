/**
 * Entry point of a red-packet worker: persists admitted grabs, requeues abandoned ones, refunds
 * expired packets, and checks that money is conserved (the ledger against balances and packets).
 */
import { PacketStore } from "../modules/red-packets/packet-store";
import { startGrabConsumer } from "../workers/red-packets/grab-consumer";
import { PacketWatch } from "../workers/red-packets/packet-watch";
import { startUpkeepJob } from "../workers/red-packets/upkeep-job";
import { startConservationJob } from "../workers/ledger/conservation-job";
import { runWorker } from "../workers/runtime";

void runWorker("red-packet-grabs", async (ctx) => {
  const store = new PacketStore(ctx.platform.redis);
  const watch = new PacketWatch(store, ctx.log).start();
  const consumer = startGrabConsumer(ctx, store, watch);
  const upkeep = startUpkeepJob(ctx, store, watch);
  const conservation = startConservationJob(ctx.platform.db, ctx.log);
  return {
    healthy: () => consumer.healthy(),
    async stop() {
      // Upkeep first (a refund in flight finishes), then the loops finish, commit and settle their grabs.
      await Promise.all([upkeep.stop(), conservation.stop()]);
      await consumer.stop();
      await watch.stop();
    },
  };
});
