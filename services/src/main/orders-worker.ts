/** Entry point of an orders worker: persists admitted flash-sale purchases and reconciles Redis with MySQL. */
import { startOrdersConsumer } from "../workers/orders/consumer";
import { startReconcileJob } from "../workers/orders/reconcile-job";
import { runWorker } from "../workers/runtime";

void runWorker("orders", async (ctx) => {
  const consumer = await startOrdersConsumer(ctx);
  const reconciler = startReconcileJob(ctx);
  return {
    healthy: () => consumer.healthy(),
    async stop() {
      await reconciler.stop();
      await consumer.stop();
    },
  };
});
