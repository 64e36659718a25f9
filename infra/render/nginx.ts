import { hostPort, type Addresses, type HostPort, type Topology } from "../topology";

/** Filesystem paths nginx writes to or serves from; each target passes its own. */
export interface NginxPaths {
  /** Directory holding every *_temp_path (must exist; nginx creates only the last component). */
  prefix: string;
  /** Directory served under /static/ (the bucket's content-hashed files and manifest). */
  staticRoot: string;
  pidFile: string;
  errorLog: string;
  accessLog: string;
}

/** Where nginx keeps its pid and logs in a container (Docker and Kubernetes): logs to the container's output. */
export const CONTAINER_NGINX_FILES = {
  pidFile: "/tmp/nginx.pid",
  errorLog: "/dev/stderr",
  accessLog: "/dev/stdout",
} as const satisfies Partial<NginxPaths>;

/** Target-specific inputs to the nginx renderer. */
export interface NginxOptions {
  /** Address every server listens on: 127.0.0.1 locally, 0.0.0.0 in a container. */
  bindHost: string;
  paths: NginxPaths;
  /** Who may read /stub_status (addresses or CIDRs); defaults to ["127.0.0.1"]. */
  statusAllow?: string[];
  /** Worker user; unset keeps the image's default. The local stack runs workers as the invoking user. */
  user?: string;
  /**
   * A file the `api` upstream includes instead of listing `a.api` itself (renderApiUpstream's
   * output): where something else — the Docker autoscaler — keeps it to the running replicas only.
   */
  apiUpstreamInclude?: string;
}

/**
 * The `api` upstream's server lines for these replicas. A replica that stops leaves this list
 * before it stops, so nginx never waits on a stopped one (on Docker its address times out rather
 * than refusing).
 */
export function renderApiUpstream(servers: HostPort[]): string {
  if (servers.length === 0) throw new Error("the api upstream needs at least one server");
  return servers.map((s) => `    server ${hostPort(s)} max_fails=3 fail_timeout=5s;\n`).join("");
}

// Clients get the house error shape ({ error, message? }) even when nginx answers for the API.
const JSON_ERRORS: Array<[name: string, status: number, body: object]> = [
  ["not_found", 404, { error: "not_found" }],
  ["rate_limited", 429, { error: "rate_limited", message: "too many requests, retry shortly" }],
  ...[502, 503, 504].map((s): [string, number, object] => [`upstream_${s}`, s, { error: "upstream_unavailable" }]),
];
const errorPages = JSON_ERRORS.map(([name, status]) => `    error_page ${status} @${name};`);
const jsonErrorLocations = JSON_ERRORS.map(
  ([name, status, body]) =>
    `    location @${name} { default_type application/json; return ${status} '${JSON.stringify(body)}'; }`,
);

// Hashed names never change content, so they may be cached for ever; anything else (the manifest) only briefly.
const HASHED_FILE = String.raw`"~\.[0-9a-f]{8,}\.[a-z]+$"`;

const ACCESS_LOG_FORMAT =
  `"time":"$time_iso8601","request_id":"$request_id","remote_addr":"$remote_addr","method":"$request_method",` +
  `"uri":"$request_uri","status":$status,"bytes_sent":$body_bytes_sent,"request_time":$request_time,` +
  `"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status","upstream_response_time":"$upstream_response_time"`;

const dir = (p: string) => p.replace(/\/+$/, "");

/** Render nginx.conf: the API load balancer with rate limits, the /static/ edge and a stub_status server. */
export function renderNginxConf(t: Topology, a: Addresses, opts: NginxOptions): string {
  const { paths, bindHost } = opts;
  const n = t.nginx;
  const prefix = dir(paths.prefix);
  const statusAllow = opts.statusAllow ?? ["127.0.0.1"];
  return `# Rendered by floodgate from the topology; edit the topology, not this file.
# A supervisor (the local stack, Docker or Kubernetes) keeps nginx in the foreground.
daemon off;
${opts.user ? `user ${opts.user};\n` : ""}worker_processes ${n.workerProcesses};
pid ${paths.pidFile};
error_log ${paths.errorLog} warn;

events {
  worker_connections ${n.workerConnections};
}

http {
  # Inline rather than the distribution's mime.types, so the file is self-contained on every target.
  types {
    application/json json;
    text/html html;
    text/css css;
    application/javascript js;
    image/svg+xml svg;
    text/plain txt;
  }
  default_type application/octet-stream;
  server_tokens off;
  sendfile on;
  etag on;

  client_body_temp_path ${prefix}/client_body_temp;
  proxy_temp_path ${prefix}/proxy_temp;
  fastcgi_temp_path ${prefix}/fastcgi_temp;
  uwsgi_temp_path ${prefix}/uwsgi_temp;
  scgi_temp_path ${prefix}/scgi_temp;

  log_format floodgate escape=json '{${ACCESS_LOG_FORMAT}}';
  access_log ${paths.accessLog} floodgate;

  limit_req_zone $binary_remote_addr zone=api:20m rate=${n.rateLimitPerSecond}r/s;
  limit_conn_zone $binary_remote_addr zone=api_conn:20m;
  # 429 tells clients to back off; the default 503 would look like an outage.
  limit_req_status 429;
  limit_conn_status 429;

  map $uri $static_cache_control {
    ${HASHED_FILE} "public, max-age=${t.static.immutableMaxAgeSeconds}, immutable";
    default "public, max-age=${t.static.manifestMaxAgeSeconds}";
  }

  upstream api {
${opts.apiUpstreamInclude ? `    include ${opts.apiUpstreamInclude};` : renderApiUpstream(a.api).trimEnd()}
    keepalive ${n.keepaliveConnections};
    # nginx closes its own idle upstream connections first: a stopping API replica drains for
    # longer than this, so it never closes one under a request nginx is sending.
    keepalive_timeout ${n.upstreamKeepaliveSeconds}s;
  }

  server {
    listen ${bindHost}:${a.nginx.port};
    client_max_body_size ${n.clientMaxBodyKb}k;
    client_body_timeout ${n.clientBodyTimeoutSeconds}s;

${errorPages.join("\n")}

    location /api/ {
      limit_req zone=api burst=${n.rateLimitBurst} nodelay;
      limit_conn api_conn ${n.connectionsPerIp};
      proxy_pass http://api;
      # HTTP/1.1 with an empty Connection header lets upstream keepalive reuse connections.
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      # Overwrite, never append: nginx is the edge, so a client-sent X-Forwarded-For must not be trusted.
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Request-Id $request_id;
      proxy_connect_timeout ${n.proxyConnectTimeoutSeconds}s;
      proxy_read_timeout ${n.proxyReadTimeoutSeconds}s;
      # Non-idempotent requests (POST, PATCH) are never retried on another replica: nginx's
      # default, kept by not adding non_idempotent, so a purchase is never submitted twice.
      proxy_next_upstream error timeout;
    }

    location /static/ {
      alias ${dir(paths.staticRoot)}/;
      add_header Cache-Control $static_cache_control;
      # The publisher puts a gzipped copy beside each content-hashed file: sent as is to clients that
      # accept gzip (no compression per request), and Vary tells caches the answer depends on it.
      gzip_static on;
      gzip_vary on;
    }

    # "/" and every unknown path.
    location / {
      return 404;
    }

${jsonErrorLocations.join("\n")}
  }

  # Scraped by nginx-prometheus-exporter; kept off the public port.
  server {
    listen ${bindHost}:${a.nginxStatus.port};
    access_log off;

    location = /stub_status {
      stub_status;
${statusAllow.map((addr) => `      allow ${addr};`).join("\n")}
      deny all;
    }
  }
}
`;
}
