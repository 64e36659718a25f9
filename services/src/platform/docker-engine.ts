import path from "node:path";
import Docker from "dockerode";
import { pack } from "tar-stream";

/**
 * The Docker Engine calls floodgate makes — inspect, start and stop a container, run a one-shot
 * container to its end — through dockerode over the engine's unix socket. The autoscaler's Docker
 * actuator and the runbooks' Docker target share it.
 */
export class DockerEngine {
  private readonly docker: Docker;

  /**
   * The engine at `socketPath`; without one, where dockerode's usual environment says (DOCKER_HOST,
   * with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for tcp), else /var/run/docker.sock.
   */
  constructor(
    readonly socketPath?: string,
    timeoutMs = 30_000,
  ) {
    this.docker = new Docker(socketPath ? { socketPath, timeout: timeoutMs } : { timeout: timeoutMs });
  }

  /** Where the engine is, for messages. */
  get where(): string {
    return this.socketPath ?? "$DOCKER_HOST (else /var/run/docker.sock)";
  }

  /** A container's image id (to run one-shot containers from the image this one runs). */
  async imageOf(name: string): Promise<string> {
    return (await this.inspect(name)).Image;
  }

  /**
   * Run a one-shot container to its end and return its exit code and output; it is removed after
   * (volumes it mounted stay). Waits up to `timeoutMs`.
   */
  async run(spec: OneShot, timeoutMs = 600_000): Promise<OneShotResult> {
    await this.remove(spec.name); // a leftover of an interrupted run
    const container = await this.call(`create ${spec.name}`, () =>
      this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Cmd: spec.command,
        User: spec.user,
        Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
        HostConfig: { Binds: spec.binds, NetworkMode: "none" },
      }),
    );
    try {
      await this.call(`start ${spec.name}`, () => container.start());
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`docker wait ${spec.name}: not done within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      const waited = (await Promise.race([this.call(`wait ${spec.name}`, () => container.wait()), timedOut]).finally(
        () => clearTimeout(timer),
      )) as { StatusCode: number };
      const raw = (await this.call(`logs ${spec.name}`, () =>
        container.logs({ stdout: true, stderr: true, follow: false }),
      )) as unknown as Buffer;
      const { stdout, stderr } = demuxLogs(raw);
      return { exitCode: waited.StatusCode, stdout, stderr };
    } finally {
      await this.remove(spec.name).catch(() => undefined);
    }
  }

  /**
   * The container's id and state: running (paused included), its healthcheck's status when it has
   * one, when it last started, and its main process's pid in the engine host's namespace (0 when
   * it does not run).
   */
  async state(
    name: string,
  ): Promise<{ id: string; running: boolean; health?: string; paused: boolean; startedAt: string; pid: number }> {
    const info = await this.inspect(name);
    return {
      id: info.Id,
      running: Boolean(info.State?.Running),
      health: info.State?.Health?.Status,
      paused: Boolean(info.State?.Paused),
      startedAt: info.State?.StartedAt ?? "",
      pid: info.State?.Pid ?? 0,
    };
  }

  /** Write `content` to the absolute `file` inside the container (root-owned, mode 0644), through the engine. */
  async writeFile(name: string, file: string, content: string): Promise<void> {
    const dir = path.posix.dirname(file);
    const tar = pack();
    tar.entry({ name: path.posix.basename(file), mode: 0o644, uid: 0, gid: 0 }, content);
    tar.finalize();
    await this.call(`put ${file} into ${name}`, () =>
      this.docker.getContainer(name).putArchive(tar as unknown as NodeJS.ReadableStream, { path: dir }),
    );
  }

  /** Send a signal to the container's main process. */
  async signal(name: string, signal: string): Promise<void> {
    await this.call(`kill -s ${signal} ${name}`, () => this.docker.getContainer(name).kill({ signal }));
  }

  /** Freeze every process of the container (the cgroup freezer), until `unpause`. */
  async pause(name: string): Promise<void> {
    await this.call(`pause ${name}`, () => this.docker.getContainer(name).pause() as Promise<unknown>);
  }

  /** Thaw a paused container. */
  async unpause(name: string): Promise<void> {
    await this.call(`unpause ${name}`, () => this.docker.getContainer(name).unpause() as Promise<unknown>);
  }

  /** Whether the container runs; an Error naming it when Docker does not know it. */
  async running(name: string): Promise<boolean> {
    return Boolean((await this.inspect(name)).State?.Running);
  }

  /** Start a container; already running is fine (the Engine answers 304). */
  start(name: string): Promise<void> {
    return this.idempotent(`start ${name}`, () => this.docker.getContainer(name).start());
  }

  /** Stop a container (SIGTERM, then SIGKILL after `graceSeconds`); already stopped is fine (304). */
  stop(name: string, graceSeconds = 15): Promise<void> {
    return this.idempotent(`stop ${name}`, () => this.docker.getContainer(name).stop({ t: graceSeconds }));
  }

  private inspect(name: string): Promise<Docker.ContainerInspectInfo> {
    return this.call(`inspect ${name}`, () => this.docker.getContainer(name).inspect());
  }

  private async remove(name: string): Promise<void> {
    await this.docker
      .getContainer(name)
      .remove({ force: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) throw this.explain(`remove ${name}`, err);
      });
  }

  private async idempotent(what: string, fn: () => Promise<unknown>): Promise<void> {
    await fn().catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 304) throw this.explain(what, err);
    });
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.explain(what, err);
    }
  }

  /** An error that says what was asked of which engine, and the engine's own answer. */
  private explain(what: string, err: unknown): Error {
    const e = err as { statusCode?: number; json?: { message?: string }; message?: string };
    const detail = e.statusCode
      ? `HTTP ${e.statusCode} ${e.json?.message ?? e.message ?? ""}`
      : (e.message ?? String(err));
    return new Error(`docker ${what} (engine at ${this.where}): ${detail.trim()}`, { cause: err });
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

/**
 * Split a non-TTY container's log stream: 8-byte frame headers (stream, 0, 0, 0, size BE) then the
 * payload; `all` is both streams in the order they were written. By hand because dockerode's own
 * demuxStream writes to two streams as data arrives, and here the whole log is one buffer already.
 */
export function demuxLogs(raw: Buffer): { stdout: string; stderr: string; all: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  for (let i = 0; i + 8 <= raw.length;) {
    const size = raw.readUInt32BE(i + 4);
    const frame = raw.subarray(i + 8, i + 8 + size);
    (raw[i] === 2 ? err : out).push(frame);
    all.push(frame);
    i += 8 + size;
  }
  const text = (b: Buffer[]) => Buffer.concat(b).toString("utf8");
  return { stdout: text(out), stderr: text(err), all: text(all) };
}

export interface OneShotResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}
