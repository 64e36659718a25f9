/**
 * The runbook stack file: how a runbook running inside a Docker or Kubernetes stack's private
 * network finds and controls that stack. The Pulumi program writes it (from the same topology,
 * addresses and secrets it deploys — one topology) into the `runbooks` container or pod at
 * STACK_FILE_PATH; on-call runs `docker exec -it runbooks npm run runbook -- … --target docker` or
 * `kubectl exec -it deploy/runbooks -- npm run runbook -- … --target k8s` there. The local stack
 * needs no file: its state folder says the same.
 */
import fs from "node:fs";
import { z } from "zod";
import { NAMES, mysqlReplicaName, parseTopology, type Addresses, type Topology } from "../topology";
import type { MysqlServerAccess } from "./target";

/** Where the Docker and Kubernetes programs put the file in the runbooks container or pod. */
export const STACK_FILE_PATH = "/etc/floodgate/runbook-stack.json";

const HostPortSchema = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });
const AddressesSchema = z.object({
  nginx: HostPortSchema,
  nginxStatus: HostPortSchema,
  api: z.array(HostPortSchema),
  tracker: HostPortSchema,
  autoscaler: HostPortSchema.optional(),
  backups: HostPortSchema.optional(),
  workers: z.object({ orders: z.array(HostPortSchema), redPacketGrabs: z.array(HostPortSchema) }),
  mysqlPrimary: HostPortSchema,
  mysqlReplicas: z.array(HostPortSchema),
  redis: z.array(HostPortSchema).min(1),
  rabbitmq: HostPortSchema,
  rabbitmqManagement: HostPortSchema,
  rabbitmqPrometheus: HostPortSchema,
  // Absent from stack files written before RabbitMQ could run as a cluster: no runbook reads it.
  rabbitmqNodeMetrics: z.array(HostPortSchema).default([]),
  prometheus: HostPortSchema,
  alertmanager: HostPortSchema,
  nodeExporter: HostPortSchema,
  nginxExporter: HostPortSchema,
  redisExporter: HostPortSchema,
  mysqldExporters: z.array(HostPortSchema),
}) satisfies z.ZodType<Addresses>;

/**
 * One process of the stack under its local-stack name (mysql-primary, mysql-replica-1, redis-3,
 * worker-orders-2, api-1…), the names every runbook and alert uses. On Docker it is the container of
 * that name; on Kubernetes, pod `ordinal` of StatefulSet `statefulSet`.
 */
const ProcessSchema = z.object({
  name: z.string().min(1),
  statefulSet: z.string().min(1).optional(),
  ordinal: z.number().int().min(0).optional(),
  /**
   * A MariaDB server's data, which mysql-failover moves between servers: the named volume (Docker),
   * the PersistentVolumeClaim (Kubernetes).
   */
  volume: z.string().min(1).optional(),
});
export type StackProcess = z.infer<typeof ProcessSchema>;

/**
 * MariaDB's data on a Kubernetes claim, as the deployment lays it out: the ids of the image's mysql
 * user, who owns it (mysql-failover's one-shot pods run as them), and the datadir's folder in the
 * claim (a relative path of plain names: the claim's root holds lost+found).
 */
const MariadbDataSchema = z.object({
  uid: z.number().int().min(1),
  gid: z.number().int().min(1),
  dir: z.string().regex(/^[\w-]+(\/[\w-]+)*$/, { error: "a folder inside the claim, e.g. data" }),
});
export type MariadbData = z.infer<typeof MariadbDataSchema>;

const FileSchema = z
  .object({
    target: z.enum(["docker", "k8s"]),
    /** The topology with its real secrets (the file is a Docker upload / Kubernetes Secret). */
    topology: z.unknown(),
    addresses: AddressesSchema,
    /** A MariaDB account with every privilege, reached over TCP (root with MARIADB_ROOT_PASSWORD). */
    mysqlAdmin: z.object({ user: z.string().min(1), password: z.string().min(1) }),
    processes: z.array(ProcessSchema),
    /**
     * Docker: the Engine API socket mounted into the runbooks container, and that container's name
     * (one-shot containers for mysql-failover run from its image).
     */
    docker: z.object({ socket: z.string().min(1), container: z.string().min(1).default("runbooks") }).optional(),
    /**
     * Kubernetes: the namespace; the app image (one-shot pods for mysql-failover run it); the API,
     * in-cluster with the pod's service account unless `api` names another (`kubectl proxy`'s URL,
     * to run the runbooks from outside the cluster); MariaDB's data on its claims (`mariadbData`).
     */
    kubernetes: z
      .object({
        namespace: z.string().min(1),
        image: z.string().min(1).optional(),
        api: z.url().optional(),
        mariadbData: MariadbDataSchema.optional(),
      })
      .optional(),
    /** The backup service's environment (services/src/backup/config.ts), for backup-now and restore. */
    backupEnv: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.target === "docker" && !f.docker)
      ctx.addIssue({ code: "custom", path: ["docker"], message: "required when target is docker" });
    if (f.target === "k8s") {
      if (!f.kubernetes) ctx.addIssue({ code: "custom", path: ["kubernetes"], message: "required when target is k8s" });
      f.processes.forEach((p, i) => {
        if (p.statefulSet === undefined || p.ordinal === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["processes", i],
            message: `${p.name}: statefulSet and ordinal are required when target is k8s`,
          });
      });
    }
    const seen = new Set<string>();
    f.processes.forEach((p, i) => {
      if (seen.has(p.name))
        ctx.addIssue({ code: "custom", path: ["processes", i, "name"], message: `${p.name} is listed twice` });
      seen.add(p.name);
    });
  });

/** The file as written (what the Pulumi programs build). */
export type StackFileInput = z.input<typeof FileSchema> & { topology: Topology };
/** The file parsed: the topology validated like any other. */
export type StackFile = Omit<z.infer<typeof FileSchema>, "topology"> & { topology: Topology };

/** A stack file that is not valid: the message names the file, each field and the problem. */
export class StackFileError extends Error {}

/** Validate a stack file's content (already JSON-parsed); `source` names it in errors. */
export function parseStackFile(input: unknown, source = "stack file"): StackFile {
  const r = FileSchema.safeParse(input);
  if (!r.success)
    throw new StackFileError(
      `${source}: ${r.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ")}`,
    );
  let topology: Topology;
  try {
    topology = parseTopology(r.data.topology);
  } catch (err) {
    throw new StackFileError(`${source}: topology: ${(err as Error).message}`);
  }
  return { ...r.data, topology };
}

/** Read and validate the stack file at `file`. */
export function readStackFile(file: string): StackFile {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new StackFileError(
      `${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file (run the runbook inside the stack's runbooks container, or pass --stack-file)" : (err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StackFileError(`${file}: not JSON: ${(err as Error).message}`);
  }
  return parseStackFile(json, file);
}

/** Each MariaDB server (the primary first) over TCP as the file's admin account, the password in MYSQL_PWD. */
export function fileMysqlAccess(file: StackFile): MysqlServerAccess[] {
  const a = file.addresses;
  const servers = [
    { name: NAMES.mysqlPrimary, address: a.mysqlPrimary },
    ...a.mysqlReplicas.map((address, i) => ({ name: mysqlReplicaName(i + 1), address })),
  ];
  return servers.map((s) => ({
    ...s,
    args: ["--protocol=tcp", "-h", s.address.host, "-P", String(s.address.port), "-u", file.mysqlAdmin.user],
    env: { MYSQL_PWD: file.mysqlAdmin.password },
  }));
}

/** Each process's volume (Docker) or claim (Kubernetes), by process name. */
export function fileVolumes(file: StackFile): Record<string, string> {
  return Object.fromEntries(file.processes.flatMap((p) => (p.volume ? [[p.name, p.volume]] : [])));
}
