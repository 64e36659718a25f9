import http from "node:http";
import type { Actuator } from "./controller";

/**
 * Starts and stops the pre-created API slot containers (api-1…api-N, in slot order) through the
 * Docker Engine API on its unix socket — plain HTTP, so node:http needs no client library. The
 * running count is the length of the running prefix; scaling changes only the slots after it.
 */
export class DockerActuator implements Actuator {
  constructor(
    private readonly containers: string[],
    private readonly socketPath = "/var/run/docker.sock",
  ) {}

  private request(method: string, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path, timeout: 30_000 }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("timeout", () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
      req.on("error", reject);
      req.end();
    });
  }

  async running(): Promise<number> {
    let n = 0;
    for (const name of this.containers) {
      const res = await this.request("GET", `/containers/${encodeURIComponent(name)}/json`);
      if (res.status !== 200) throw new Error(`docker inspect ${name}: HTTP ${res.status} ${res.body}`);
      if (!(JSON.parse(res.body) as { State: { Running: boolean } }).State.Running) break;
      n++;
    }
    return n;
  }

  async scaleTo(replicas: number): Promise<void> {
    const current = await this.running();
    // 204 done, 304 already in that state: both fine (idempotent).
    const act = async (name: string, verb: "start" | "stop") => {
      const res = await this.request(
        "POST",
        `/containers/${encodeURIComponent(name)}/${verb}${verb === "stop" ? "?t=15" : ""}`,
      );
      if (res.status !== 204 && res.status !== 304)
        throw new Error(`docker ${verb} ${name}: HTTP ${res.status} ${res.body}`);
    };
    for (let i = current; i < replicas; i++) await act(this.containers[i], "start");
    for (let i = current - 1; i >= replicas; i--) await act(this.containers[i], "stop");
  }
}
