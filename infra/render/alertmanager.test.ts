import { parse } from "yaml";
import { parseTopology, type TopologyInput } from "../topology";
import { renderAlertmanagerYml } from "./alertmanager";

const render = (input: TopologyInput = {}) => parse(renderAlertmanagerYml(parseTopology(input)));
const WEBHOOK = "https://oncall.example.com/hooks/floodgate";

describe("renderAlertmanagerYml", () => {
  it("routes everything to on-call, grouped by alert and job", () => {
    const { route } = render();

    expect(route).toMatchObject({
      receiver: "oncall",
      group_by: ["alertname", "job"],
      group_wait: "10s",
      group_interval: "1m",
      repeat_interval: "4h",
    });
  });

  it("sends the Watchdog to its own receiver, repeated every minute", () => {
    const { route, receivers } = render({ monitoring: { oncallWebhookUrl: WEBHOOK } });

    expect(route.routes).toEqual([{ receiver: "watchdog", matchers: ['alertname="Watchdog"'], repeat_interval: "1m" }]);
    expect(receivers).toContainEqual({ name: "watchdog" });
  });

  it.each<[string, TopologyInput, object]>([
    [
      "posts to the on-call webhook, resolved alerts included, when one is set",
      { monitoring: { oncallWebhookUrl: WEBHOOK } },
      { name: "oncall", webhook_configs: [{ url: WEBHOOK, send_resolved: true }] },
    ],
    ["keeps an on-call receiver without configs when no webhook is set", {}, { name: "oncall" }],
  ])("%s", (_name, input, oncall) => {
    expect(render(input).receivers).toEqual([oncall, { name: "watchdog" }]);
  });

  it("lets a critical alert inhibit the warning of the same alert and job", () => {
    expect(render().inhibit_rules).toEqual([
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["alertname", "job"],
      },
    ]);
  });

  it("sends the autoscale signals, resolved too, to the autoscaler's webhook where one runs", () => {
    const t = parseTopology({});
    const config = parse(renderAlertmanagerYml(t, { autoscaler: { host: "10.0.0.9", port: 8095 } }));
    expect(config.route.routes).toContainEqual(
      expect.objectContaining({ receiver: "autoscaler", matchers: ['autoscale=~"out|in"'], group_wait: "1s" }),
    );
    expect(config.receivers).toContainEqual({
      name: "autoscaler",
      webhook_configs: [{ url: "http://10.0.0.9:8095/alerts", send_resolved: true }],
    });
    const without = parse(renderAlertmanagerYml(t, { autoscaler: undefined }));
    expect(without.receivers.map((r: { name: string }) => r.name)).toEqual(["oncall", "watchdog"]);
  });
});
