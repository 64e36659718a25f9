import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ONE_SHOT } from "./container-spec";

/** How many of a failed job's last log lines the error shows. */
export const FAILURE_LOG_LINES = 20;

/** What replaces a secret found in a failed job's log lines. */
export const REDACTED = "[secret]";

/** `logs` with every occurrence of each secret replaced (longest first, so no secret's tail survives). */
export function redactSecrets(logs: string, secrets: string[]): string {
  return [...secrets]
    .filter((s) => s.length > 0)
    .sort((a, b) => b.length - a.length)
    .reduce((text, s) => text.split(s).join(REDACTED), logs);
}

/**
 * Why a finished job failed, or undefined when it exited 0 (pure): its name, exit code and last
 * log lines, any secret in them redacted. A job that reported no exit code failed too: the
 * provider only leaves it unset when it never saw the job end.
 */
export function jobFailure(job: string, exitCode: number | undefined, logs: string | undefined, secrets: string[]) {
  if (exitCode === 0) return undefined;
  const lines = (logs ?? "").replace(/\r/g, "").trimEnd().split("\n").slice(-FAILURE_LOG_LINES);
  const tail = lines.join("\n").trim() === "" ? "(no output)" : redactSecrets(lines.join("\n"), secrets);
  const code = exitCode === undefined || exitCode === null ? "no exit code" : `exit code ${exitCode}`;
  return `one-shot job ${job} failed (${code}); its last ${FAILURE_LOG_LINES} log lines:\n${tail}`;
}

/** A one-shot job and its outcome. */
export interface OneShotJob {
  /** The job's container (its logs are a secret output: kept encrypted in the state). */
  container: docker.Container;
  /**
   * The container once it exited 0. Depend on this, not on the container: when the job fails it
   * rejects with `jobFailure`'s message, which fails `pulumi up` and every resource waiting on it.
   */
  succeeded: pulumi.Output<pulumi.Resource>;
}

/**
 * Runs a container to completion (ONE_SHOT: Pulumi attaches and waits for its exit) and fails the
 * update when it exits non-zero. The provider itself records the exit code but never fails on it.
 * `secrets` are redacted from the log lines the error shows.
 */
export function oneShotJob(
  resourceName: string,
  args: docker.ContainerArgs & { name: string },
  opts: pulumi.CustomResourceOptions,
  secrets: pulumi.Input<string>[] = [],
): OneShotJob {
  const container = new docker.Container(
    resourceName,
    { ...args, ...ONE_SHOT },
    {
      ...opts,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "containerLogs"],
    },
  );
  const checked = pulumi
    .all([container.exitCode, container.containerLogs, pulumi.all(secrets)])
    .apply(([exitCode, logs, plain]): pulumi.Resource => {
      const failure = jobFailure(args.name, exitCode, logs, plain);
      if (failure !== undefined) throw new Error(failure);
      return container;
    });
  // The logs made it secret; which container succeeded is not.
  return { container, succeeded: pulumi.unsecret(checked) };
}
