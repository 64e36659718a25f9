/**
 * The one seam between what acts on a stack (runbooks, chaos, the bench) and what runs it: a Target
 * answers the same questions in the same shape on the local stack, on one Docker host and on a
 * Kubernetes cluster — where each process is (its addresses, by the names of topology/names.ts), how
 * to reach MariaDB as an account with every privilege, how to stop, start and scale a process, and
 * how to run a one-shot job beside a MariaDB server's data. Each target implements it in
 * infra/targets/<target>/target.ts; runbooks, load runs, the bench and chaos reach no further than
 * this file and its siblings in infra/targets/ (.dependency-cruiser.cjs says so).
 */
import type { Addresses, HostPort, Topology } from "../topology";

/** The targets, as `--target` names them. */
export const RUNBOOK_TARGETS = ["local", "docker", "k8s"] as const;
export type RunbookTarget = (typeof RUNBOOK_TARGETS)[number];

/** A process of the stack by its name (topology/names.ts), whether it runs now, and what the target knows of it. */
export interface ProcessState {
  name: string;
  running: boolean;
  /** e.g. "pid 1234 127.0.0.1:3306" on the local stack. */
  detail?: string;
  /**
   * Which run of the process this is: it changes whenever the process (re)starts — the pid on the
   * local stack, the container id and its start time on Docker, the pod's uid and its containers'
   * restarts on Kubernetes — so "restarted" means a new instance that runs.
   */
  instance?: string;
  /** Its pid where this machine sees the process (the local stack, a Docker host's engine); not on Kubernetes. */
  hostPid?: number;
}

/** The signals a fault sends: a crash, and a freeze and its thaw. */
export type ProcessSignal = "SIGKILL" | "SIGSTOP" | "SIGCONT";

/** What can be done to a stack's processes, whatever runs them. */
export interface ProcessControl {
  /** Every process the stack has, by its name, and whether it runs now. */
  list(): Promise<ProcessState[]>;
  /** Start a process that is stopped (a no-op when it runs). */
  start(name: string): Promise<void>;
  /** Stop a process (a no-op when it is stopped). */
  stop(name: string): Promise<void>;
  /**
   * Send a fault's signal to a running process, as a crash or a stall would: SIGKILL kills it at
   * once (whether it comes back is the platform's doing: the local supervisor restarts what it
   * restarts, Kubernetes recreates the pod, Docker leaves a killed container stopped); SIGSTOP
   * freezes it until SIGCONT. A TargetError where the platform cannot do it.
   */
  signal(name: string, signal: ProcessSignal): Promise<void>;
}

/** How to reach one MariaDB server as an account with every privilege, with the `mariadb` client. */
export interface MysqlServerAccess {
  name: string;
  address: HostPort;
  /** Connection arguments for mariadb / mariadb-dump (after --no-defaults). */
  args: string[];
  /** Environment for them (the password, never on the command line). */
  env: Record<string, string>;
}

/**
 * A one-shot job beside MariaDB servers' data: `data` names, by a key of the job's choosing, the
 * server whose data directory it works on; `scratch` (optional) a key for a directory that outlives
 * the job (a swap's parking place). The target mounts them — folders of the state folder on the
 * local stack, named volumes on Docker, PersistentVolumeClaims on Kubernetes — and runs
 * `command(dirs)` as the data's owner, `dirs` mapping each key to where that directory is inside the
 * job — also set in the job's environment under the key, for shell scripts. The servers must be
 * stopped, unless `readOnly`.
 */
export interface DataJob {
  /** The container or pod name (a fixed name: a leftover of an interrupted run is replaced). */
  name: string;
  data: Record<string, string>;
  /** `key` in `dirs`; `name` the place itself (a folder, a volume), the same from run to run. */
  scratch?: { key: string; name: string };
  readOnly?: boolean;
  command: (dirs: Record<string, string>) => string[];
}

/** How a job ended: whether it exited 0, and its output (stdout, then stderr). */
export interface JobResult {
  ok: boolean;
  output: string;
}

/** The API's replica count where the platform keeps it (Kubernetes: the StatefulSet's scale). */
export interface ReplicaScale {
  /** What the platform says: the StatefulSet and the pods it runs. */
  where: string;
  replicas(): Promise<number>;
  scale(replicas: number): Promise<void>;
}

/** The stack a runbook, a chaos run or a bench acts on. */
export interface Target {
  kind: RunbookTarget;
  /** For messages: "the local stack in DIR", "the Docker stack", "the Kubernetes stack in NS". */
  description: string;
  topology: Topology;
  addresses: Addresses;
  /** Each MariaDB server, the primary first. */
  mysql: MysqlServerAccess[];
  control: ProcessControl;
  /** The backup service's environment on this target (a directory or the S3 bucket). */
  backupEnv: Record<string, string>;
  /** Where runbooks keep what outlives one run on this machine (restored instances). */
  scratchDir: string;
  /** The options that make another runbook act on this same target, for the commands a runbook prints. */
  selfArgs: string[];
  /** Where the catalog's static files are published, where this machine sees them (the local stack). */
  staticDir?: string;
  /** Set where the platform, not the autoscaler, holds the API's replica count (Kubernetes). */
  apiScale?: ReplicaScale;
  /** Where a MariaDB server's data lives, for messages: its folder, volume or claim. */
  dataOf(server: string): string;
  /** Run a one-shot job beside MariaDB servers' data (mysql-failover's binlog read and data swap). */
  runDataJob(job: DataJob): Promise<JobResult>;
}

/** A target that cannot be opened as asked: the message says why (a usage error, exit 2). */
export class TargetError extends Error {}
