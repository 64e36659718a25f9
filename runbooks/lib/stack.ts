/**
 * The stack a runbook acts on, whatever runs it: the local stack (its state folder and control
 * socket), or a Docker or Kubernetes stack seen from inside its private network (the runbook stack
 * file the Pulumi program wrote, the Docker Engine API, the Kubernetes API). Runbooks reach the
 * stores the same way on every target — by address, as the app does — and differ only in who
 * starts and stops processes.
 */
import { $, type ProcessOutput } from "zx";
import path from "node:path";
import type { Addresses, HostPort, Topology } from "../../infra/topology";
import { localBackupEnv } from "../../infra/targets/local/components/backups";
import { mysqlSockets, parseVerticalRow } from "../../infra/targets/local/components/mysql";
import type { StackContext } from "../../infra/targets/local/context";
import { DockerEngine } from "../../services/src/platform/docker-engine";
import { KubernetesControl } from "../../infra/targets/kubernetes/control";
import { command } from "./shell";
import { localStack, UsageError, type LocalStack, type RunbookOptions } from "./runbook";
import {
  readStackFile,
  StackFileError,
  type MariadbData,
  type ProcessControl,
  type RunbookTarget,
  type StackFile,
} from "../../infra/targets/stack-file";

/** How to reach one MariaDB server as an account with every privilege, with the `mariadb` client. */
export interface MysqlServerAccess {
  name: string;
  address: HostPort;
  /** Connection arguments for mariadb / mariadb-dump (after --no-defaults). */
  args: string[];
  /** Environment for them (the password, never on the command line). */
  env: Record<string, string>;
}

/** Root-level SQL on the stack's MariaDB servers (primary first), by server name. */
export class MysqlAdmin {
  constructor(readonly servers: MysqlServerAccess[]) {}

  get names(): string[] {
    return this.servers.map((s) => s.name);
  }

  server(name: string): MysqlServerAccess {
    const s = this.servers.find((x) => x.name === name);
    if (!s) throw new Error(`no MariaDB server ${name} (the stack has ${this.names.join(", ")})`);
    return s;
  }

  /** Run SQL (on stdin, through zx) within `timeoutMs` (default 30 s); tab-separated rows without column names. */
  sql(name: string, sql: string, timeoutMs?: number): Promise<string> {
    const s = this.server(name);
    return command("mariadb", ["--no-defaults", ...s.args, "--batch", "--skip-column-names"], {
      input: sql,
      env: s.env,
      timeoutMs,
    });
  }

  /** `SHOW SLAVE STATUS` as a field → value map (empty when the server is not a replica). */
  async replicaStatus(name: string): Promise<Record<string, string>> {
    const s = this.server(name);
    const out = await command("mariadb", ["--no-defaults", ...s.args, "--vertical"], {
      input: "SHOW SLAVE STATUS",
      env: s.env,
    });
    return parseVerticalRow(out);
  }
}

/** The stack a runbook acts on. */
export interface RunbookStack {
  target: RunbookTarget;
  /** For messages: "the local stack in DIR", "the Docker stack", "the Kubernetes stack in NS". */
  description: string;
  topology: Topology;
  addresses: Addresses;
  mysql: MysqlAdmin;
  /** Start and stop the stack's processes by their local-stack names. */
  control: ProcessControl;
  /** The backup service's environment on this target (a directory or the S3 bucket). */
  backupEnv: Record<string, string>;
  /** The local stack's state folder and control socket; only on the local target. */
  local?: LocalStack;
  /** The Docker engine, the runbooks container's name, and each MariaDB server's volume; only on Docker. */
  docker?: { engine: DockerEngine; container: string; volumes: Record<string, string> };
  /** The Kubernetes API, the app image, MariaDB's data layout and each server's claim; only on Kubernetes. */
  kubernetes?: {
    control: KubernetesControl;
    image?: string;
    mariadbData?: MariadbData;
    volumes: Record<string, string>;
  };
}

/** The stack `options` point at, or a UsageError saying why there is none. */
export function openStack(options: RunbookOptions): RunbookStack {
  if (options.target === "local") return fromLocal(localStack(options.stateDir));
  let file: StackFile;
  try {
    file = readStackFile(options.stackFile);
  } catch (err) {
    if (err instanceof StackFileError) throw new UsageError(err.message);
    throw err;
  }
  if (file.target !== options.target)
    throw new UsageError(`--target ${options.target}: ${options.stackFile} describes a ${file.target} stack`);
  return fromFile(file);
}

/** The local stack as a RunbookStack. */
export function fromLocal(stack: LocalStack): RunbookStack {
  const sockets = mysqlSockets(stack);
  const a = stack.addresses;
  const at = [a.mysqlPrimary, ...a.mysqlReplicas];
  return {
    target: "local",
    description: `the local stack in ${stack.layout.root}`,
    topology: stack.topology,
    addresses: stack.addresses,
    // Local root authenticates by socket: no password anywhere.
    mysql: new MysqlAdmin(
      Object.entries(sockets).map(([name, socket], i) => ({
        name,
        address: at[i],
        args: ["--protocol=socket", `--socket=${socket}`, "-uroot"],
        env: {},
      })),
    ),
    control: {
      list: async () => (await stack.control.list()).map((p) => ({ name: p.name, running: p.running })),
      start: async (name) => {
        const p = await stack.control.start(name);
        if (!p.running) throw new Error(`the stack reports ${name} not running`);
      },
      stop: async (name) => void (await stack.control.stop(name)),
    },
    backupEnv: localBackupEnv({ ...stack, bindHost: "127.0.0.1" } as unknown as StackContext),
    local: stack,
  };
}

/** A Docker or Kubernetes stack as its runbook stack file describes it. */
export function fromFile(file: StackFile): RunbookStack {
  const a = file.addresses;
  const servers = [
    { name: "mysql-primary", address: a.mysqlPrimary },
    ...a.mysqlReplicas.map((address, i) => ({ name: `mysql-replica-${i + 1}`, address })),
  ];
  const names = file.processes.map((p) => p.name);
  const volumes = Object.fromEntries(file.processes.flatMap((p) => (p.volume ? [[p.name, p.volume]] : [])));
  let control: ProcessControl;
  let description: string;
  let dockerParts: RunbookStack["docker"];
  let kubernetesParts: RunbookStack["kubernetes"];
  if (file.target === "docker") {
    const docker = new DockerEngine(file.docker!.socket);
    dockerParts = {
      engine: docker,
      container: file.docker!.container,
      volumes,
    };
    description = `the Docker stack (engine at ${docker.socketPath})`;
    const known = (name: string) => {
      if (!names.includes(name)) throw new Error(`no process ${name} in the Docker stack (it has ${names.join(", ")})`);
      return name;
    };
    control = {
      list: () => Promise.all(names.map(async (name) => ({ name, running: await docker.running(name) }))),
      start: (name) => docker.start(known(name)),
      stop: (name) => docker.stop(known(name)),
    };
  } else {
    const k = file.kubernetes!;
    description = `the Kubernetes stack in namespace ${k.namespace}`;
    const kubernetes = new KubernetesControl({
      namespace: k.namespace,
      processes: file.processes,
      api: k.api ? { server: k.api } : undefined,
    });
    control = kubernetes;
    kubernetesParts = { control: kubernetes, image: k.image, mariadbData: k.mariadbData, volumes };
  }
  return {
    target: file.target,
    description,
    topology: file.topology,
    addresses: a,
    mysql: new MysqlAdmin(
      servers.map((s) => ({
        ...s,
        args: ["--protocol=tcp", "-h", s.address.host, "-P", String(s.address.port), "-u", file.mysqlAdmin.user],
        env: { MYSQL_PWD: file.mysqlAdmin.password },
      })),
    ),
    control,
    backupEnv: file.backupEnv ?? {},
    docker: dockerParts,
    kubernetes: kubernetesParts,
  };
}

/**
 * How to run one of the services' entry points (services/src/main/NAME) from a runbook: through tsx
 * in a checkout, or the compiled file in the app image (where the runbooks are compiled too).
 */
export function serviceEntry(name: string): { args: string[]; cwd: string } {
  const compiled = path.extname(__filename) === ".js";
  const root = path.resolve(__dirname, "..", "..");
  return compiled
    ? { args: [path.join(root, "services", "src", "main", `${name}.js`)], cwd: root }
    : { args: ["--import", "tsx", path.join("services", "src", "main", `${name}.ts`)], cwd: root };
}

/**
 * Runs one of the services' entry points once (serviceEntry) with `env` added, through zx: its
 * output, or a rejection with its exit code and stderr (zx's ProcessOutput).
 */
export function runServiceOnce(name: string, args: string[], env: Record<string, string>): Promise<ProcessOutput> {
  const entry = serviceEntry(name);
  return $({ cwd: entry.cwd, env: { ...process.env, ...env }, quiet: true, timeout: "600s" })`${process.execPath} ${[
    ...entry.args,
    ...args,
  ]}`;
}
