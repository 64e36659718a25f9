import { localAddresses, parseTopology, type Addresses, type HostPort, type TopologyInput } from "../topology";
import { exactly, present } from "../../test/support/checked";
import { renderApiUpstream, renderNginxConf, type NginxOptions } from "./nginx";

const buildTopology = (input: TopologyInput = {}) => parseTopology(input);

const buildOptions = (overrides: Partial<NginxOptions> = {}): NginxOptions => ({
  bindHost: "127.0.0.1",
  paths: {
    prefix: "/srv/nginx",
    staticRoot: "/srv/static",
    pidFile: "/srv/nginx/nginx.pid",
    errorLog: "/srv/nginx/logs/error.log",
    accessLog: "/srv/nginx/logs/access.log",
  },
  ...overrides,
});

// Container-style addresses: every component on its own host (api-1, api-2, redis-1, …), as Docker/Kubernetes see them.
function buildContainerAddresses(a: Addresses): Addresses {
  const host = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const entries = Object.entries(a).map(([key, value]: [string, HostPort | HostPort[]]) => [
    key,
    Array.isArray(value)
      ? value.map((hp, i) => ({ host: `${host(key)}-${i + 1}`, port: hp.port }))
      : { host: host(key), port: value.port },
  ]);
  return Object.fromEntries(entries) as Addresses;
}

function upstreamServers(conf: string): string[] {
  const [, block] = /upstream api \{([^}]*)\}/.exec(conf) ?? [];
  if (block === undefined) throw new Error(`no upstream api block in:\n${conf}`);
  return [...block.matchAll(/^\s*server (\S+)/gm)].map(([, server]) => present(server, "an upstream server"));
}

// Every value of a directive, wherever it appears: "proxy_read_timeout 10s;" → ["10s"].
const directive = (conf: string, name: string) =>
  [...conf.matchAll(new RegExp(`^\\s*${name} ([^;]*);`, "gm"))].map((m) => m[1]);

describe("renderNginxConf", () => {
  describe.each([1, 2, 5])("with %i API replicas", (replicas) => {
    const t = buildTopology({ api: { replicas }, autoscaling: { minReplicas: 1 } });
    const a = localAddresses(t);
    const conf = renderNginxConf(t, a, buildOptions());

    it("lists exactly those replicas in the upstream, in order", () => {
      expect(upstreamServers(conf)).toEqual(a.api.map((s) => `${s.host}:${s.port}`));
      expect(upstreamServers(conf)).toHaveLength(replicas);
    });

    it("marks each replica with max_fails and fail_timeout", () => {
      expect(conf.match(/server \S+ max_fails=\d+ fail_timeout=\d+s;/g)).toHaveLength(replicas);
    });
  });

  it("overwrites X-Forwarded-For with the client address so clients cannot forge it", () => {
    const conf = renderNginxConf(buildTopology(), localAddresses(buildTopology()), buildOptions());

    expect(directive(conf, "proxy_set_header")).toContain("X-Forwarded-For $remote_addr");
    expect(conf).not.toContain("$proxy_add_x_forwarded_for");
  });

  it("keeps nginx's default of never retrying non-idempotent requests on another replica", () => {
    const conf = renderNginxConf(buildTopology(), localAddresses(buildTopology()), buildOptions());

    expect(directive(conf, "proxy_next_upstream")).toEqual(["error timeout"]);
  });

  describe.each<[string, TopologyInput]>([
    ["the defaults", {}],
    [
      "a tight edge",
      {
        nginx: { rateLimitPerSecond: 50, rateLimitBurst: 10, connectionsPerIp: 4, clientMaxBodyKb: 8 },
        static: { manifestMaxAgeSeconds: 0, immutableMaxAgeSeconds: 600 },
      },
    ],
    [
      "a slow backend",
      { nginx: { proxyConnectTimeoutSeconds: 5, proxyReadTimeoutSeconds: 60, clientBodyTimeoutSeconds: 30 } },
    ],
  ])("with %s", (_name, input) => {
    const t = buildTopology(input);
    const conf = renderNginxConf(t, localAddresses(t), buildOptions());
    const n = t.nginx;

    it("takes rate and connection limits from the topology, rejecting with 429", () => {
      expect(directive(conf, "limit_req_zone")).toEqual([
        `$binary_remote_addr zone=api:20m rate=${n.rateLimitPerSecond}r/s`,
      ]);
      expect(directive(conf, "limit_req")).toEqual([`zone=api burst=${n.rateLimitBurst} nodelay`]);
      expect(directive(conf, "limit_conn")).toEqual([`api_conn ${n.connectionsPerIp}`]);
      expect(directive(conf, "limit_req_status")).toEqual(["429"]);
      expect(directive(conf, "limit_conn_status")).toEqual(["429"]);
    });

    it("takes body size, timeouts and pool sizes from the topology", () => {
      expect(directive(conf, "client_max_body_size")).toEqual([`${n.clientMaxBodyKb}k`]);
      expect(directive(conf, "client_body_timeout")).toEqual([`${n.clientBodyTimeoutSeconds}s`]);
      expect(directive(conf, "proxy_connect_timeout")).toEqual([`${n.proxyConnectTimeoutSeconds}s`]);
      expect(directive(conf, "proxy_read_timeout")).toEqual([`${n.proxyReadTimeoutSeconds}s`]);
      expect(directive(conf, "keepalive")).toEqual([`${n.keepaliveConnections}`]);
      expect(directive(conf, "worker_processes")).toEqual([`${n.workerProcesses}`]);
      expect(directive(conf, "worker_connections")).toEqual([`${n.workerConnections}`]);
    });

    it("caches hashed static files for ever and everything else for the manifest TTL", () => {
      expect(conf).toContain(`"public, max-age=${t.static.immutableMaxAgeSeconds}, immutable"`);
      expect(conf).toContain(`default "public, max-age=${t.static.manifestMaxAgeSeconds}"`);
    });

    it("serves the publisher's gzipped copies to clients that accept gzip, and says so in Vary", () => {
      expect([directive(conf, "gzip_static"), directive(conf, "gzip_vary")]).toEqual([["on"], ["on"]]);
    });
  });

  it("answers errors with JSON bodies and the right status", () => {
    const conf = renderNginxConf(buildTopology(), localAddresses(buildTopology()), buildOptions());
    const returns = directive(conf, "location @\\S+ \\{ default_type application/json; return");

    expect(returns).toEqual([
      `404 '{"error":"not_found"}'`,
      `429 '{"error":"rate_limited","message":"too many requests, retry shortly"}'`,
      `502 '{"error":"upstream_unavailable"}'`,
      `503 '{"error":"upstream_unavailable"}'`,
      `504 '{"error":"upstream_unavailable"}'`,
    ]);
    expect(directive(conf, "error_page")).toEqual([
      "404 @not_found",
      "429 @rate_limited",
      "502 @upstream_502",
      "503 @upstream_503",
      "504 @upstream_504",
    ]);
  });

  it("lets only the allowed addresses read stub_status, 127.0.0.1 by default", () => {
    const t = buildTopology();
    const byDefault = renderNginxConf(t, localAddresses(t), buildOptions());
    const widened = renderNginxConf(
      t,
      localAddresses(t),
      buildOptions({ statusAllow: ["10.0.0.0/8", "172.16.0.0/12"] }),
    );

    expect(directive(byDefault, "allow")).toEqual(["127.0.0.1"]);
    expect(directive(widened, "allow")).toEqual(["10.0.0.0/8", "172.16.0.0/12"]);
    expect(directive(widened, "deny")).toEqual(["all"]);
  });

  it("bakes in nothing target-specific: hosts, ports and paths all come from the arguments", () => {
    const t = buildTopology({ api: { replicas: 3 } });
    const a = buildContainerAddresses(localAddresses(t));
    const conf = renderNginxConf(t, a, buildOptions({ bindHost: "0.0.0.0", statusAllow: ["10.0.0.0/8"] }));

    expect(conf).not.toContain("127.0.0.1");
    expect(conf).not.toContain("/etc/nginx");
    expect(conf).not.toContain("/var/");
    expect(upstreamServers(conf)).toEqual(["api-1:8101", "api-2:8102", "api-3:8103"]);
    expect(directive(conf, "listen")).toEqual([`0.0.0.0:${a.nginx.port}`, `0.0.0.0:${a.nginxStatus.port}`]);
    for (const temp of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) {
      expect(directive(conf, `${temp}_temp_path`)).toEqual([`/srv/nginx/${temp}_temp`]);
    }
    expect(directive(conf, "alias")).toEqual(["/srv/static/"]);
    expect(directive(conf, "pid")).toEqual(["/srv/nginx/nginx.pid"]);
    expect(directive(conf, "error_log")).toEqual(["/srv/nginx/logs/error.log warn"]);
    expect(directive(conf, "access_log")).toEqual(["/srv/nginx/logs/access.log floodgate", "off"]);
  });

  it("runs in the foreground and logs the request id, status, timing and upstream as JSON", () => {
    const conf = renderNginxConf(buildTopology(), localAddresses(buildTopology()), buildOptions());

    expect(directive(conf, "daemon")).toEqual(["off"]);
    expect(directive(conf, "server_tokens")).toEqual(["off"]);
    const [format] = directive(conf, "log_format");
    expect(format).toMatch(/^floodgate escape=json '\{.*\}'$/);
    for (const v of ["$request_id", "$status", "$request_time", "$upstream_addr"]) expect(format).toContain(v);
  });
});

describe("the api upstream kept in a file of its own", () => {
  it("includes the file instead of listing the replicas, and the file lists exactly the given ones", () => {
    const t = buildTopology({ api: { replicas: 3 } });
    const a = localAddresses(t);
    const conf = renderNginxConf(t, a, buildOptions({ apiUpstreamInclude: "/etc/nginx/floodgate/api-upstream.conf" }));
    expect(upstreamServers(conf)).toEqual([]);
    expect(conf).toMatch(/upstream api \{\n {4}include \/etc\/nginx\/floodgate\/api-upstream\.conf;\n/);
    const [first, second] = exactly(a.api, 3, "API addresses");
    expect(renderApiUpstream([first, second])).toBe(
      `    server ${first.host}:${first.port} max_fails=3 fail_timeout=5s;\n` +
        `    server ${second.host}:${second.port} max_fails=3 fail_timeout=5s;\n`,
    );
    // Inline, the same lines: the two renderings are one config.
    expect(renderNginxConf(t, a, buildOptions())).toContain(renderApiUpstream(a.api));
  });

  it("refuses an empty upstream (nginx would not start)", () => {
    expect(() => renderApiUpstream([])).toThrow("at least one server");
  });
});
