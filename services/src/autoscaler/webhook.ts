import { z } from "zod";

/** The part of Alertmanager's webhook payload (version 4) the autoscaler reads. */
export const WebhookSchema = z.object({
  version: z.literal("4"),
  status: z.enum(["firing", "resolved"]),
  alerts: z.array(
    z.object({
      status: z.enum(["firing", "resolved"]),
      labels: z.record(z.string(), z.string()),
      fingerprint: z.string().optional(),
    }),
  ),
});
export type Webhook = z.infer<typeof WebhookSchema>;

/** The autoscale signals a notification sets: per direction, firing (true) or resolved (false). */
export function signalsOf(w: Webhook): Partial<Record<"out" | "in", boolean>> {
  const out: Partial<Record<"out" | "in", boolean>> = {};
  for (const a of w.alerts) {
    const dir = a.labels.autoscale;
    if (dir === "out" || dir === "in") out[dir] = a.status === "firing" || out[dir] === true;
  }
  return out;
}
