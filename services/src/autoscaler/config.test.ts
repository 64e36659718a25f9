import { parseAutoscalerEnv } from "./config";

const env = (overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  HTTP_PORT: "8095",
  AUTOSCALE_TARGET: "docker",
  AUTOSCALE_MIN_REPLICAS: "2",
  AUTOSCALE_MAX_REPLICAS: "3",
  AUTOSCALE_COOLDOWN_SECONDS: "60",
  AUTOSCALE_SCALE_OUT_CPU_PERCENT: "70",
  AUTOSCALE_SCALE_IN_CPU_PERCENT: "20",
  AUTOSCALE_SCALE_OUT_P99_MS: "250",
  AUTOSCALE_API_CONTAINERS: "api-1,api-2,api-3",
  AUTOSCALE_API_ADDRESSES: "172.28.0.10:8101,172.28.0.11:8101,172.28.0.12:8101",
  AUTOSCALE_NGINX_CONTAINER: "nginx",
  AUTOSCALE_NGINX_UPSTREAM_FILE: "/etc/nginx/floodgate/api-upstream.conf",
  PROMETHEUS_URL: "http://prometheus:9090",
  ...overrides,
});

describe("the autoscaler's environment", () => {
  it("takes every slot with its address, and nginx's upstream file", () => {
    const e = parseAutoscalerEnv(env());
    expect(e.AUTOSCALE_API_ADDRESSES).toEqual(["172.28.0.10:8101", "172.28.0.11:8101", "172.28.0.12:8101"]);
    expect([e.AUTOSCALE_NGINX_CONTAINER, e.AUTOSCALE_NGINX_UPSTREAM_FILE]).toEqual([
      "nginx",
      "/etc/nginx/floodgate/api-upstream.conf",
    ]);
  });

  it.each([
    [{ AUTOSCALE_API_ADDRESSES: "172.28.0.10:8101,172.28.0.11:8101" }, "AUTOSCALE_API_ADDRESSES"],
    [{ AUTOSCALE_API_ADDRESSES: "172.28.0.10,172.28.0.11:8101,172.28.0.12:8101" }, "AUTOSCALE_API_ADDRESSES"],
    [{ AUTOSCALE_NGINX_UPSTREAM_FILE: "api-upstream.conf" }, "AUTOSCALE_NGINX_UPSTREAM_FILE"],
    [{ AUTOSCALE_NGINX_CONTAINER: undefined }, "AUTOSCALE_NGINX_CONTAINER = (unset)"],
  ])("refuses %p, naming the variable", (overrides, named) => {
    expect(() => parseAutoscalerEnv(env(overrides))).toThrow(named);
  });
});
