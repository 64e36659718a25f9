import { stringify } from "yaml";
import { hostPort, type Addresses, type Topology } from "../topology";

/**
 * Render alertmanager.yml: everything to on-call, the Watchdog apart, critical inhibiting warning;
 * ApiScaleOut / ApiScaleIn (label autoscale) to the autoscaler's webhook where one runs.
 */
export function renderAlertmanagerYml(t: Topology, a?: Pick<Addresses, "autoscaler">): string {
  const webhook = t.monitoring.oncallWebhookUrl;
  const autoscaler = a?.autoscaler;
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
        // Scaling signals go to the autoscaler only (not a page), fast, and resolved too so it stops.
        ...(autoscaler
          ? [
              {
                receiver: "autoscaler",
                matchers: ['autoscale=~"out|in"'],
                group_by: ["alertname"],
                group_wait: "1s",
                group_interval: "5s",
                repeat_interval: "1m",
              },
            ]
          : []),
      ],
    },
    receivers: [
      // Without a webhook the receiver still exists, so routing stays valid and alerts stay visible in the UI.
      webhook ? { name: "oncall", webhook_configs: [{ url: webhook, send_resolved: true }] } : { name: "oncall" },
      { name: "watchdog" },
      ...(autoscaler
        ? [
            {
              name: "autoscaler",
              webhook_configs: [{ url: `http://${hostPort(autoscaler)}/alerts`, send_resolved: true }],
            },
          ]
        : []),
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
