import { DockerEngine } from "../platform/docker-engine";
import type { Actuator } from "./controller";

/**
 * Starts and stops the pre-created API slot containers (api-1…api-N, in slot order) through the
 * Docker Engine API. The running count is the length of the running prefix; scaling changes only
 * the slots after it.
 */
export class DockerActuator implements Actuator {
  private readonly engine: DockerEngine;

  constructor(
    private readonly containers: string[],
    socketPath = "/var/run/docker.sock",
  ) {
    this.engine = new DockerEngine(socketPath);
  }

  async running(): Promise<number> {
    let n = 0;
    for (const name of this.containers) {
      if (!(await this.engine.running(name))) break;
      n++;
    }
    return n;
  }

  async scaleTo(replicas: number): Promise<void> {
    const current = await this.running();
    // Start and stop are idempotent (Docker answers 304 when already in that state).
    for (let i = current; i < replicas; i++) await this.engine.start(this.containers[i]);
    for (let i = current - 1; i >= replicas; i--) await this.engine.stop(this.containers[i]);
  }
}
