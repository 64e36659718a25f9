import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderRedisAcl, renderRedisReplicationAuth } from "../../render";
import type { DeployConfig } from "../../deployment";
import type { Addresses, HostPort } from "../../topology";
import { redisName } from "../../topology";
import { limits, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { oneShotJob, type OneShotJob } from "./one-shot";

// Redis passwords are rotated in place, without restarting a node (a restart is a failover). A
// node's redis.conf names two files in its data volume instead of holding the users: `users.acl`
// (its `aclfile`, which the server itself rewrites with ACL SAVE) and `replication.conf` (its
// masterauth, included). A job writes them before a node's first start, and on a rotation changes
// the live users with ACL SETUSER — which, unlike ACL LOAD, closes no connection — in two phases:
//   prepare (before any client is replaced): each user accepts its new password besides the old
//     one, replicas authenticate with the new one, and ACL SAVE makes it survive a restart;
//   finish (after every client runs with the new password): each user keeps only the new one.
// Clients therefore never hold a password a node refuses.

/** Where each job reads the rendered files (uploaded, secret). */
export const REDIS_AUTH_UPLOADS = "/floodgate-redis-auth";
/** Where each job mounts node N's data volume. */
export const redisNodeMount = (i: number) => `/nodes/${redisName(i)}`;
/** The files in a node's data volume that its redis.conf names. */
export const REDIS_AUTH_FILES = {
  aclFile: `${PATHS.redisData}/users.acl`,
  includeFile: `${PATHS.redisData}/replication.conf`,
} as const;
/** The job's own volume: the admin password last applied, to log in while a rotation is under way. */
export const REDIS_CREDENTIALS_DIR = "/var/lib/redis-credentials";
export const REDIS_CREDENTIALS_VOLUME = "redis-credentials";

export type RedisAuthPhase = "prepare" | "finish";

interface Node {
  /** Container name (redis-N), for messages. */
  name: string;
  address: HostPort;
  /** Where the job sees the node's data volume. */
  mount: string;
}

/**
 * The shell the job runs (sh from the redis image, as root: it hands the files to the redis
 * user). The admin password comes in REDISCLI_AUTH, every other secret in the uploaded files;
 * none is ever in argv or printed. A node that does not answer fails the job after `waitSeconds`.
 */
export function redisAuthScript(
  phase: RedisAuthPhase,
  nodes: Node[],
  opts: { uploads?: string; credentialsDir?: string; waitSeconds?: number } = {},
): string {
  const uploads = opts.uploads ?? REDIS_AUTH_UPLOADS;
  const creds = opts.credentialsDir ?? REDIS_CREDENTIALS_DIR;
  const wait = opts.waitSeconds ?? 180;
  const acl = `${uploads}/users.acl`;
  const repl = `${uploads}/replication.conf`;
  // `NAME HASH` for every user with a password: ACL SETUSER takes the hashed form (#…).
  const usersAndHashes = `sed -n 's/^user \\([^ ]*\\) .*#\\([0-9a-f]\\{64\\}\\).*$/\\1 \\2/p' ${acl}`;
  const commands =
    phase === "prepare"
      ? `{ ${usersAndHashes} | while read -r u h; do echo "ACL SETUSER $u #$h"; done; ` +
        // The same quoting as redis.conf (both parse with sdssplitargs).
        `sed -n 's/^masterauth /CONFIG SET masterauth /p' ${repl}; echo "ACL SAVE"; }`
      : `{ ${usersAndHashes} | while read -r u h; do echo "ACL SETUSER $u resetpass #$h"; done; echo "ACL SAVE"; }`;
  const lines = [
    "umask 077",
    'configured="$REDISCLI_AUTH"',
    'cli() { redis-cli --no-auth-warning -e --user admin -h "$1" -p "$2"; }',
    'answers() { REDISCLI_AUTH= redis-cli --no-auth-warning -h "$1" -p "$2" ping 2>&1 | grep -qE "PONG|NOAUTH"; }',
    'logs_in() { REDISCLI_AUTH="$3" redis-cli --no-auth-warning --user admin -h "$1" -p "$2" ping 2>/dev/null | grep -q PONG; }',
    // Log in as admin with the configured password, else the one last applied, else the one before.
    "login() {",
    '  if logs_in "$1" "$2" "$configured"; then REDISCLI_AUTH="$configured"; return 0; fi',
    `  for f in ${creds}/redis-admin ${creds}/redis-admin.previous; do`,
    '    if [ -s "$f" ] && logs_in "$1" "$2" "$(cat "$f")"; then REDISCLI_AUTH="$(cat "$f")"; return 0; fi',
    "  done",
    "  return 1",
    "}",
    "export REDISCLI_AUTH",
  ];
  for (const node of nodes) {
    const { host, port } = node.address;
    const at = `${node.name} (${host}:${port})`;
    lines.push(
      `if [ ! -s ${node.mount}/users.acl ]; then`,
      phase === "prepare"
        ? `  cp ${acl} ${repl} ${node.mount}/ && chown redis:redis ${node.mount} ${node.mount}/users.acl ${node.mount}/replication.conf || exit 1\n` +
            `  echo "${node.name}: users written for its first start"`
        : `  echo "${node.name} has no users file: run pulumi up again, the prepare job writes it" >&2; exit 1`,
      "else",
      `  i=0; until answers ${host} ${port}; do i=$((i + 1)); if [ "$i" -ge ${wait} ]; then echo "${at} did not answer within ${wait} s: start it, then run pulumi up again" >&2; exit 1; fi; sleep 1; done`,
      `  login ${host} ${port} || { echo "admin login to ${at} refused with the configured password and with every one recorded in ${creds}: set redisAdminPassword back to the server's, then run pulumi up again" >&2; exit 1; }`,
      `  ${commands} | cli ${host} ${port} >/tmp/out 2>&1 || { grep -v '^OK$' /tmp/out | sed 's/#[0-9a-f]*/#…/g' >&2; echo "${at}: applying the users failed" >&2; exit 1; }`,
      ...(phase === "prepare"
        ? [
            `  cp ${repl} ${node.mount}/replication.conf.new && chown redis:redis ${node.mount}/replication.conf.new && mv ${node.mount}/replication.conf.new ${node.mount}/replication.conf || exit 1`,
          ]
        : []),
      `  echo "${node.name}: ${phase === "prepare" ? "new passwords accepted besides the old ones" : "only the new passwords accepted"}"`,
      "fi",
    );
  }
  if (phase === "prepare") {
    lines.push(
      `if [ -s ${creds}/redis-admin ] && [ "$(cat ${creds}/redis-admin)" != "$configured" ]; then cp ${creds}/redis-admin ${creds}/redis-admin.previous; fi`,
      `printf '%s' "$configured" > ${creds}/redis-admin.new && mv ${creds}/redis-admin.new ${creds}/redis-admin || exit 1`,
    );
  }
  return lines.join("\n");
}

/** What a Redis auth job reads: the nodes' addresses, the network, the secrets and the redis image. */
export interface RedisAuthJobArgs extends Pick<DockerContext, "network" | "secretTopology"> {
  addresses: Pick<Addresses, "redis">;
  cfg: Pick<DeployConfig, "topology" | "secrets">;
  images: Pick<DockerContext["images"], "redis">;
}

/** The nodes as the jobs see them, in address order. */
function jobNodes(ctx: RedisAuthJobArgs): Node[] {
  return ctx.addresses.redis.map((address, i) => ({ name: redisName(i), address, mount: redisNodeMount(i) }));
}

/**
 * One phase's job. Its inputs hold every Redis password (in the uploads and REDISCLI_AUTH), so a
 * rotation of any of them replaces it, and it runs again.
 */
export function redisAuthJob(
  resourceName: string,
  phase: RedisAuthPhase,
  ctx: RedisAuthJobArgs,
  volumes: pulumi.Input<string>[],
  credentials: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): OneShotJob {
  const name = phase === "prepare" ? "redis-auth" : "redis-auth-finish";
  return oneShotJob(
    resourceName,
    {
      name,
      image: ctx.images.redis,
      // Root, to hand the files it writes into a node's volume to the redis user.
      user: "root",
      envs: [pulumi.interpolate`REDISCLI_AUTH=${ctx.cfg.secrets.redisAdminPassword}`],
      entrypoints: ["sh", "-c"],
      command: [redisAuthScript(phase, jobNodes(ctx))],
      uploads: [
        { file: `${REDIS_AUTH_UPLOADS}/users.acl`, content: ctx.secretTopology.apply(renderRedisAcl) },
        {
          file: `${REDIS_AUTH_UPLOADS}/replication.conf`,
          content: ctx.secretTopology.apply(renderRedisReplicationAuth),
        },
      ],
      volumes: [
        ...volumes.map((volumeName, i) => ({ volumeName, containerPath: redisNodeMount(i) })),
        { volumeName: credentials, containerPath: REDIS_CREDENTIALS_DIR },
      ],
      networksAdvanced: onNetwork(ctx.network, name),
      ...limits("job", ctx.cfg.topology),
    },
    { ...opts, deleteBeforeReplace: true },
    Object.values(ctx.cfg.secrets),
  );
}

/** The volume holding what the prepare job last applied. */
export function redisCredentialsVolume(name: string, parent: pulumi.Resource): docker.Volume {
  return new docker.Volume(name, { name: REDIS_CREDENTIALS_VOLUME }, { parent });
}
