/**
 * A Docker stack as a Target, seen from its `runbooks` container (or from a laptop with the Engine's
 * socket): the runbook stack file the program wrote says where everything is; the Engine (dockerode)
 * stops and starts containers by name; MariaDB is reached over TCP as the runbooks' admin account;
 * a one-shot job is a container from the runbooks container's image with the servers' volumes.
 */
import os from "node:os";
import path from "node:path";
import { DockerEngine } from "../../../services/src/platform/docker-engine";
import type { StackFile } from "../stack-file";
import type { DataJob, JobResult, ProcessSignal, Target } from "../target";
import { fileMysqlAccess, fileVolumes } from "../stack-file";

/** Where one-shot containers mount volumes. */
const MOUNT = "/volumes";

/**
 * A fault's signal to a container. SIGKILL goes to its main process through the engine (`docker
 * kill`): the container stops, and stays stopped — the engine counts a kill as a manual stop, which
 * `unless-stopped` does not restart (moby/moby#53415). SIGSTOP and SIGCONT pause and unpause it
 * instead of signalling PID 1: the cgroup freezer stops every process of the container, as the
 * local stack's group signal does, where a STOP to PID 1 would leave its children running; and a
 * `docker kill -s STOP` would also mark the container manually stopped, so a crash after the thaw
 * would not be restarted. CONT of a container that is not paused does nothing, like SIGCONT.
 */
async function dockerSignal(engine: DockerEngine, name: string, signal: ProcessSignal): Promise<void> {
  if (signal === "SIGKILL") return engine.signal(name, "SIGKILL");
  const { paused } = await engine.state(name);
  if (signal === "SIGSTOP" && !paused) await engine.pause(name);
  if (signal === "SIGCONT" && paused) await engine.unpause(name);
}

/**
 * The stack `file` describes, its engine at the file's socket (inside the runbooks container), or —
 * `engineFromEnvironment`, on a laptop with DOCKER_HOST set — where dockerode's environment says.
 */
export function dockerTarget(
  file: StackFile & { docker: NonNullable<StackFile["docker"]> },
  engineFromEnvironment = false,
): Target {
  const engine = new DockerEngine(engineFromEnvironment ? undefined : file.docker.socket);
  const names = file.processes.map((p) => p.name);
  const volumes = fileVolumes(file);
  const known = (name: string) => {
    if (!names.includes(name)) throw new Error(`no process ${name} in the Docker stack (it has ${names.join(", ")})`);
    return name;
  };
  const volume = (name: string) => {
    const v = volumes[name];
    if (!v) throw new Error(`the stack file names no volume for ${name}`);
    return v;
  };
  return {
    kind: "docker",
    description: `the Docker stack (engine at ${engine.where})`,
    topology: file.topology,
    addresses: file.addresses,
    mysql: fileMysqlAccess(file),
    control: {
      list: () =>
        Promise.all(
          names.map(async (name) => {
            const s = await engine.state(name);
            // A restart in place keeps the id and changes StartedAt; a re-created container has a new id.
            const instance = s.startedAt ? `${s.id.slice(0, 12)}@${s.startedAt}` : undefined;
            return { name, running: s.running, instance, hostPid: s.running && s.pid > 0 ? s.pid : undefined };
          }),
        ),
      start: (name) => engine.start(known(name)),
      stop: (name) => engine.stop(known(name)),
      signal: (name, signal) => dockerSignal(engine, known(name), signal),
    },
    backupEnv: file.backupEnv ?? {},
    // The runbooks container's temp folder: gone with the container (a restored instance is for a look).
    scratchDir: path.join(os.tmpdir(), "floodgate"),
    selfArgs: ["--target", "docker"],
    dataOf: (server) => `volume ${volume(server)}`,
    /** A container from the runbooks container's image, as root, each volume at /volumes/NAME (the datadir itself). */
    runDataJob: async (job: DataJob): Promise<JobResult> => {
      const dirs: Record<string, string> = {};
      const binds: string[] = [];
      for (const [key, server] of Object.entries(job.data)) {
        dirs[key] = `${MOUNT}/${volume(server)}`;
        binds.push(`${volume(server)}:${dirs[key]}${job.readOnly ? ":ro" : ""}`);
      }
      if (job.scratch) {
        dirs[job.scratch.key] = `${MOUNT}/${job.scratch.name}`;
        binds.push(`${job.scratch.name}:${dirs[job.scratch.key]}`);
      }
      const r = await engine.run({
        name: job.name,
        image: await engine.imageOf(file.docker.container),
        command: job.command(dirs),
        binds,
        env: dirs,
        user: "0",
      });
      return { ok: r.exitCode === 0, output: r.stdout + r.stderr };
    },
  };
}
