import { renderApiUpstream } from "../../../infra/render/nginx";
import { DockerEngine } from "../platform/docker-engine";
import type { Actuator } from "./controller";

/** nginx's `api` upstream, kept to the running slots: its container and the file its config includes. */
export interface NginxUpstream {
  container: string;
  file: string;
  /** host:port of every slot, in slot order. */
  addresses: string[];
}

/** How long a started slot gets to report healthy before nginx sends it traffic. */
const HEALTHY_WITHIN_MS = 120_000;

/**
 * Starts and stops the pre-created API slot containers (api-1…api-N, in slot order) through the
 * Docker Engine API. The running count is the length of the running prefix; scaling changes only
 * the slots after it. nginx's upstream lists the running slots only (a stopped container's address
 * times out instead of refusing, which would hold requests for the connect timeout): a started slot
 * joins it once healthy, a slot to stop leaves it first; the file is rewritten and nginx reloaded
 * (SIGHUP: old workers finish their requests). When nginx's container is new (replaced by a
 * deployment, with the deployment's list) the list is written again.
 */
export class DockerActuator implements Actuator {
  private readonly engine: DockerEngine;
  /** nginx's container id and the slot count it was last given. */
  private synced: { id: string; replicas: number } | null = null;

  constructor(
    private readonly containers: string[],
    private readonly nginx?: NginxUpstream,
    socketPath = "/var/run/docker.sock",
    private readonly healthyWithinMs = HEALTHY_WITHIN_MS,
  ) {
    if (nginx && nginx.addresses.length !== containers.length)
      throw new Error(`${containers.length} API slots but ${nginx.addresses.length} upstream addresses`);
    this.engine = new DockerEngine(socketPath);
  }

  async running(): Promise<number> {
    const n = await this.runningPrefix();
    await this.syncUpstream(n, false);
    return n;
  }

  async scaleTo(replicas: number): Promise<void> {
    if (replicas > this.containers.length)
      throw new Error(`replicas = ${replicas}, but there are only ${this.containers.length} API slots`);
    const current = await this.runningPrefix();
    if (replicas > current) {
      const starting = this.containers.slice(current, replicas);
      // Start and stop are idempotent (Docker answers 304 when already in that state).
      for (const name of starting) await this.engine.start(name);
      for (const name of starting) await this.healthy(name);
      await this.syncUpstream(replicas, true);
    } else if (replicas < current) {
      await this.syncUpstream(replicas, true);
      // The last slot first, so the running slots stay a prefix.
      for (const name of this.containers.slice(replicas, current).reverse()) await this.engine.stop(name);
    }
  }

  private async runningPrefix(): Promise<number> {
    let n = 0;
    for (const name of this.containers) {
      if (!(await this.engine.running(name))) break;
      n++;
    }
    return n;
  }

  /** Wait until a started slot's healthcheck passes (running is enough for a slot without one). */
  private async healthy(name: string): Promise<void> {
    const deadline = Date.now() + this.healthyWithinMs;
    for (;;) {
      const s = await this.engine.state(name);
      if (s.running && (s.health === undefined || s.health === "healthy")) return;
      if (!s.running || s.health === "unhealthy" || Date.now() > deadline)
        throw new Error(`${name} did not become healthy (${s.running ? (s.health ?? "running") : "stopped"})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Give nginx the first `replicas` slots when it lacks them (or always, with `force`), and reload it. */
  private async syncUpstream(replicas: number, force: boolean): Promise<void> {
    if (!this.nginx || replicas === 0) return;
    const { id, running } = await this.engine.state(this.nginx.container);
    if (!running) return; // written when it runs again (its id tells whether it was replaced)
    if (!force && this.synced?.id === id && this.synced.replicas === replicas) return;
    const servers = this.nginx.addresses.slice(0, replicas).map((a) => {
      const at = a.lastIndexOf(":");
      return { host: a.slice(0, at), port: Number(a.slice(at + 1)) };
    });
    await this.engine.writeFile(this.nginx.container, this.nginx.file, renderApiUpstream(servers));
    await this.engine.signal(this.nginx.container, "HUP");
    this.synced = { id, replicas };
  }
}
