/** Entry point of a red-packet worker: persists admitted grabs, requeues abandoned ones, refunds expired packets. */
import { PacketStore } from "../modules/red-packets/packet-store";
import { startGrabConsumer } from "../workers/red-packets/grab-consumer";
import { PacketWatch } from "../workers/red-packets/packet-watch";
import { startUpkeepJob } from "../workers/red-packets/upkeep-job";
import { runWorker } from "../workers/runtime";

void runWorker("red-packet-grabs", async (ctx) => {
  const store = new PacketStore(ctx.platform.redis);
  const watch = new PacketWatch(store, ctx.log).start();
  const consumer = startGrabConsumer(ctx, store, watch);
  const upkeep = startUpkeepJob(ctx, store, watch);
  return {
    healthy: () => consumer.healthy(),
    async stop() {
      // Upkeep first (a refund in flight finishes), then the loops finish, commit and settle their grabs.
      await upkeep.stop();
      await consumer.stop();
      await watch.stop();
    },
  };
});
