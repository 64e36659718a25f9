/**
 * The stack a runbook (or a chaos run, or a bench) acts on: the local stack in a state folder, or a
 * Docker or Kubernetes stack its runbook stack file describes — each as a Target (target.ts).
 */
import type * as DockerTargets from "./docker/target";
import type * as KubernetesTargets from "./kubernetes/target";
import { localTarget } from "./local/target";
import { readStackFile, StackFileError, type StackFile } from "./stack-file";
import { TargetError, type RunbookTarget, type Target } from "./target";

export * from "./target";
export * from "./clients";
export { STACK_FILE_PATH } from "./stack-file";

/** Where to find the stack: `target`, the local stack's `stateDir`, the others' `stackFile`. */
export interface TargetOptions {
  target: RunbookTarget;
  stateDir: string;
  stackFile: string;
  /** DOCKER_HOST is set: reach the Docker Engine it names (from a laptop), not the stack file's socket. */
  dockerHostSet?: boolean;
}

/** The Target `options` point at, or a TargetError saying why there is none. */
export function openTarget(options: TargetOptions): Target {
  if (options.target === "local") return localTarget(options.stateDir);
  let file: StackFile;
  try {
    file = readStackFile(options.stackFile);
  } catch (err) {
    if (err instanceof StackFileError) throw new TargetError(err.message);
    throw err;
  }
  if (file.target !== options.target)
    throw new TargetError(`--target ${options.target}: ${options.stackFile} describes a ${file.target} stack`);
  return targetOfFile(file, options.dockerHostSet);
}

/**
 * A Docker or Kubernetes stack as its runbook stack file describes it. Each target's module is
 * required only here, when asked for: the Kubernetes client alone takes seconds to load on a busy
 * machine, which a local runbook (a drill racing a process's restart) must not wait for.
 */
export function targetOfFile(file: StackFile, dockerHostSet = false): Target {
  const { docker, kubernetes } = file;
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (file.target === "docker" && docker)
    return (require("./docker/target") as typeof DockerTargets).dockerTarget({ ...file, docker }, dockerHostSet);
  if (file.target === "k8s" && kubernetes)
    return (require("./kubernetes/target") as typeof KubernetesTargets).kubernetesTarget({ ...file, kubernetes });
  /* eslint-enable @typescript-eslint/no-require-imports */
  throw new TargetError(`the stack file describes a ${file.target} stack without its ${file.target} section`);
}
