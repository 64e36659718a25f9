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
import type { DataJob, JobResult, Target } from "../target";
import { fileMysqlAccess, fileVolumes } from "../stack-file";

/** Where one-shot containers mount volumes. */
const MOUNT = "/volumes";

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
      list: () => Promise.all(names.map(async (name) => ({ name, running: await engine.running(name) }))),
      start: (name) => engine.start(known(name)),
      stop: (name) => engine.stop(known(name)),
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
