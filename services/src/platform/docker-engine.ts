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

  request(method: string, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path, timeout: this.timeoutMs }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("timeout", () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
      req.on("error", (err) => reject(new Error(`docker engine at ${this.socketPath}: ${err.message}`)));
      req.end();
    });
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
