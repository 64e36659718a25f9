import http from "node:http";

/**
 * The few Docker Engine API calls floodgate makes (inspect, start, stop a container), over the
 * engine's unix socket. It is plain HTTP, so node:http needs no client library; the autoscaler's
 * Docker actuator and the runbooks' Docker target share it.
 */
export class DockerEngine {
  constructor(
    readonly socketPath = "/var/run/docker.sock",
    private readonly timeoutMs = 30_000,
  ) {}

  request(
    method: string,
    path: string,
    json?: unknown,
    timeoutMs = this.timeoutMs,
  ): Promise<{ status: number; body: string; raw: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = json === undefined ? {} : { "content-type": "application/json" };
      const req = http.request({ socketPath: this.socketPath, method, path, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: raw.toString("utf8"), raw });
        });
      });
      req.on("timeout", () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
      req.on("error", (err) =>
        reject(new Error(`docker engine at ${this.socketPath}: ${err.message}`, { cause: err })),
      );
      req.end(json === undefined ? undefined : JSON.stringify(json));
    });
  }

  /** A container's image id (to run one-shot containers from the image this one runs). */
  async imageOf(name: string): Promise<string> {
    const res = await this.request("GET", `/containers/${encodeURIComponent(name)}/json`);
    if (res.status !== 200) throw new Error(`docker inspect ${name}: HTTP ${res.status} ${res.body}`);
    return (JSON.parse(res.body) as { Image: string }).Image;
  }

  /**
   * Run a one-shot container to its end and return its exit code and output; it is removed after
   * (volumes it mounted stay). Waits up to `timeoutMs`.
   */
  async run(spec: OneShot, timeoutMs = 600_000): Promise<OneShotResult> {
    const name = encodeURIComponent(spec.name);
    await this.request("DELETE", `/containers/${name}?force=1`); // a leftover of an interrupted run
    const created = await this.request("POST", `/containers/create?name=${name}`, {
      Image: spec.image,
      Cmd: spec.command,
      User: spec.user,
      Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
      HostConfig: { Binds: spec.binds, NetworkMode: "none" },
    });
    if (created.status !== 201) throw new Error(`docker create ${spec.name}: HTTP ${created.status} ${created.body}`);
    try {
      await this.post(spec.name, "start");
      const waited = await this.request("POST", `/containers/${name}/wait`, undefined, timeoutMs);
      if (waited.status !== 200) throw new Error(`docker wait ${spec.name}: HTTP ${waited.status} ${waited.body}`);
      const exitCode = (JSON.parse(waited.body) as { StatusCode: number }).StatusCode;
      const logs = await this.request("GET", `/containers/${name}/logs?stdout=1&stderr=1`);
      if (logs.status !== 200) throw new Error(`docker logs ${spec.name}: HTTP ${logs.status} ${logs.body}`);
      return { exitCode, ...demuxLogs(logs.raw) };
    } finally {
      await this.request("DELETE", `/containers/${name}?force=1`).catch(() => undefined);
    }
  }

  /** Whether the container runs; an Error naming it when Docker does not know it. */
  async running(name: string): Promise<boolean> {
    const res = await this.request("GET", `/containers/${encodeURIComponent(name)}/json`);
    if (res.status !== 200) throw new Error(`docker inspect ${name}: HTTP ${res.status} ${res.body}`);
    return Boolean((JSON.parse(res.body) as { State?: { Running?: boolean } }).State?.Running);
  }

  /** Start a container; already running is fine (304). */
  start(name: string): Promise<void> {
    return this.post(name, "start");
  }

  /** Stop a container (SIGTERM, then SIGKILL after `graceSeconds`); already stopped is fine (304). */
  stop(name: string, graceSeconds = 15): Promise<void> {
    return this.post(name, "stop", `?t=${graceSeconds}`);
  }

  private async post(name: string, verb: "start" | "stop", query = ""): Promise<void> {
    const res = await this.request("POST", `/containers/${encodeURIComponent(name)}/${verb}${query}`);
    if (res.status !== 204 && res.status !== 304)
      throw new Error(`docker ${verb} ${name}: HTTP ${res.status} ${res.body}`);
  }
}

/** A one-shot container: what to run, with which volumes (name → path inside) and environment. */
export interface OneShot {
  /** Its name (a previous run's leftover of that name is removed first). */
  name: string;
  image: string;
  command: string[];
  /** Named volumes mounted at paths, e.g. `mysql-primary-data:/volumes/a` (`:ro` for read-only). */
  binds: string[];
  env?: Record<string, string>;
  /** Numeric uid or name; "0" to read and move files any server wrote. */
  user?: string;
}

/** Split a non-TTY container's log stream: 8-byte frame headers (stream, 0, 0, 0, size BE) then the payload. */
export function demuxLogs(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let i = 0; i + 8 <= raw.length;) {
    const size = raw.readUInt32BE(i + 4);
    (raw[i] === 2 ? err : out).push(raw.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

export interface OneShotResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}
