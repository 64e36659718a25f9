/**
 * A Kubernetes stack as a Target, seen from its `runbooks` pod (or from a laptop with a kubeconfig):
 * the runbook stack file the program wrote says where everything is; the API (client-node) starts
 * and stops StatefulSet pods and holds the API's replica count; MariaDB is reached over TCP as the
 * runbooks' admin account; a one-shot job is a pod from the app image with the servers' claims, as
 * the data's owner. Both claims of a swap mount in one pod, so both must attach to one node — with
 * node-local storage on different nodes the scheduler says so and the job fails.
 */
import os from "node:os";
import path from "node:path";
import { NAMES } from "../../topology";
import { fileMysqlAccess, fileVolumes, type StackFile } from "../stack-file";
import type { DataJob, JobResult, Target } from "../target";
import { KubernetesControl } from "./control";

/** Where one-shot pods mount claims. */
const MOUNT = "/volumes";

/** The stack `file` describes; `control` only for tests (default: the API the file or the environment names). */
export function kubernetesTarget(
  file: StackFile & { kubernetes: NonNullable<StackFile["kubernetes"]> },
  control = new KubernetesControl({
    namespace: file.kubernetes.namespace,
    processes: file.processes,
    api: file.kubernetes.api ? { server: file.kubernetes.api } : undefined,
  }),
): Target {
  const k = file.kubernetes;
  const claims = fileVolumes(file);
  const claim = (name: string) => {
    const v = claims[name];
    if (!v) throw new Error(`the stack file names no PersistentVolumeClaim for ${name}`);
    return v;
  };
  const image = () => {
    if (!k.image) throw new Error("the stack file names no image for one-shot pods (kubernetes.image)");
    return k.image;
  };
  const layout = () => {
    if (!k.mariadbData)
      throw new Error("the stack file names no MariaDB data owner and folder (kubernetes.mariadbData): run pulumi up");
    return k.mariadbData;
  };
  return {
    kind: "k8s",
    description: `the Kubernetes stack in namespace ${k.namespace}`,
    topology: file.topology,
    addresses: file.addresses,
    mysql: fileMysqlAccess(file),
    control,
    backupEnv: file.backupEnv ?? {},
    scratchDir: path.join(os.tmpdir(), "floodgate"),
    selfArgs: ["--target", "k8s"],
    // KEDA's HPA scales the StatefulSet too: a count set by hand lasts until its next decision.
    apiScale: {
      where: `StatefulSet ${NAMES.api}`,
      replicas: () => control.replicas(NAMES.api),
      scale: (n) => control.scale(NAMES.api, n),
    },
    dataOf: (server) => `claim ${claim(server)}`,
    /**
     * A pod from the app image, as the data's owner, each claim at /volumes/CLAIM (the datadir a
     * folder in it); the scratch place a folder beside the first datadir in its claim (no third claim
     * to provision). A read-only job runs on the node of its server's pod: a crash-looping server's
     * pod keeps its claim attached there.
     */
    runDataJob: async (job: DataJob): Promise<JobResult> => {
      const servers = Object.values(job.data);
      const first = servers[0];
      if (!first) throw new Error(`${job.name}: no data to mount`);
      const root = (server: string) => `${MOUNT}/${claim(server)}`;
      const dirs: Record<string, string> = {};
      for (const [key, server] of Object.entries(job.data)) dirs[key] = path.posix.join(root(server), layout().dir);
      if (job.scratch) dirs[job.scratch.key] = `${root(first)}/.${job.scratch.name}`;
      const r = await control.runPod({
        name: job.name,
        image: image(),
        command: job.command(dirs),
        claims: Object.fromEntries(servers.map((s) => [root(s), claim(s)])),
        readOnly: job.readOnly,
        env: dirs,
        runAs: { uid: layout().uid, gid: layout().gid },
        nodeName: job.readOnly ? await control.nodeOf(first) : undefined,
      });
      return { ok: r.succeeded, output: r.log };
    },
  };
}
