import { stringify } from "yaml";
import type { Topology } from "../topology";

/** Render alertmanager.yml: everything to on-call, the Watchdog apart, critical inhibiting warning. */
export function renderAlertmanagerYml(t: Topology): string {
  const webhook = t.monitoring.oncallWebhookUrl;
  const config = {
    route: {
      receiver: "oncall",
      group_by: ["alertname", "job"],
      group_wait: "10s",
      group_interval: "1m",
      repeat_interval: "4h",
      routes: [
        // The always-firing dead-man's switch: repeated often so its absence is noticed quickly.
        { receiver: "watchdog", matchers: ['alertname="Watchdog"'], repeat_interval: "1m" },
      ],
    },
    receivers: [
      // Without a webhook the receiver still exists, so routing stays valid and alerts stay visible in the UI.
      webhook ? { name: "oncall", webhook_configs: [{ url: webhook, send_resolved: true }] } : { name: "oncall" },
      { name: "watchdog" },
    ],
    // A critical alert already pages; the matching warning would only add noise.
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["alertname", "job"],
      },
    ],
  };
  return `# Rendered by floodgate from the topology; edit the topology, not this file.\n${stringify(config, { lineWidth: 0 })}`;
}
