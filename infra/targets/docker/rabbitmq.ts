import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  QUORUM_INITIAL_GROUP_SIZE,
  rabbitmqNodeNames,
  renderEnabledPlugins,
  renderRabbitmqConf,
  renderRabbitmqDefinitions,
  renderRabbitmqUsers,
} from "../../render";
import type { DeployConfig } from "../../deployment";
import type { Addresses, Topology } from "../../topology";
import { rabbitmqName } from "../../topology";
import { RABBITMQ_CLUSTER_ALIAS } from "./addresses";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { oneShotJob } from "./one-shot";

/** Where the users job reads the users file (uploaded, secret). */
export const RABBITMQ_USERS_FILE = "/floodgate-rabbitmq/users.json";

/**
 * The shell the users job runs (sh from the rabbitmq image): imports the users and their
 * permissions into the running broker over Erlang distribution, authenticated by the cookie in
 * RABBITMQ_ERLANG_COOKIE, as the broker itself is (so it is in no argv; Debian's CLI wrapper
 * reads its cookie file from the rabbitmq user's home, whatever HOME says). An import
 * changes a password in place and closes no connection; the broker keeps the users in its
 * database, so a restart does not undo it. Users are cluster-wide, so the first node that answers
 * takes the import. Tries for `waitSeconds` while the broker boots.
 *
 * Then, for a cluster, it waits until every queue of the definitions exists (a node declares none
 * until the cluster has all its nodes: target_cluster_size_hint, seen with 3.10.8 on a lone node),
 * so the services never start against a cluster that would drop their messages as unroutable; and
 * it grows every quorum queue of `vhost` onto each of `members` (the first three nodes): a queue
 * declared while the cluster was smaller (one node grown to three) has a member only on the nodes
 * it had, and RabbitMQ 3.10 adds none by itself. Idempotent: a queue already on a node is skipped.
 */
export function rabbitmqUsersScript(
  nodes: string[],
  waitSeconds = 180,
  cluster: { vhost: string; queues: string[]; members: string[] } = { vhost: "", queues: [], members: [] },
): string {
  const tries = Math.ceil(waitSeconds / 3);
  const list = nodes.join(", ");
  return [
    "umask 077",
    `imported() { for n in ${nodes.join(" ")}; do rabbitmqctl -q --node "$n" import_definitions ${RABBITMQ_USERS_FILE} >/tmp/out 2>&1 && node=$n && return 0; done; return 1; }`,
    "i=0",
    "until imported; do",
    `  i=$((i + 1)); if [ "$i" -ge ${tries} ]; then cat /tmp/out >&2; echo "importing the users into ${list} failed for ${waitSeconds} s" >&2; exit 1; fi`,
    "  sleep 3",
    "done",
    'echo "users and permissions imported into $node"',
    ...cluster.queues.flatMap((queue) => [
      "i=0",
      `until rabbitmqctl -q --node "$node" list_queues -p ${cluster.vhost} name 2>/tmp/out | grep -Fqx '${queue}'; do`,
      `  i=$((i + 1)); if [ "$i" -ge ${tries} ]; then cat /tmp/out >&2; echo "queue ${queue} not declared within ${waitSeconds} s: does the cluster have all its nodes?" >&2; exit 1; fi`,
      "  sleep 3",
      "done",
    ]),
    ...cluster.members.flatMap((member) => [
      "i=0",
      `until rabbitmq-queues -q --node "$node" grow ${member} all --vhost-pattern '^${cluster.vhost}$' --queue-pattern '.*' >/tmp/out 2>&1; do`,
      `  i=$((i + 1)); if [ "$i" -ge ${tries} ]; then cat /tmp/out >&2; echo "growing the quorum queues onto ${member} failed for ${waitSeconds} s" >&2; exit 1; fi`,
      "  sleep 3",
      "done",
      `echo "quorum queues have a member on ${member}"`,
    ]),
  ].join("\n");
}

/** Every queue the definitions declare (the work queues and their dead-letter queues). */
export function definitionsQueueNames(t: Topology): string[] {
  return (JSON.parse(renderRabbitmqDefinitions(t, { users: false })) as { queues: Array<{ name: string }> }).queues.map(
    (q) => q.name,
  );
}

/** The node names of the topology's RabbitMQ containers (rabbit@<hostname>), node 0 first. */
export function dockerRabbitmqNodes(t: Topology): string[] {
  return rabbitmqNodeNames(Array.from({ length: t.rabbitmq.nodes }, (_, i) => rabbitmqName(i)));
}

/** rabbitmq.conf on Docker: listeners on every interface, definitions from the mounted file, peers by name. */
export function dockerRabbitmqConf(t: Topology, a: Addresses): string {
  return renderRabbitmqConf(t, {
    bindHost: "0.0.0.0",
    amqpPort: a.rabbitmq.port,
    managementPort: a.rabbitmqManagement.port,
    prometheusPort: a.rabbitmqPrometheus.port,
    definitionsFile: PATHS.rabbitmqDefinitions,
    peerDiscovery: { backend: "classic", nodes: dockerRabbitmqNodes(t) },
  });
}

/** What RabbitMq reads: the broker's addresses (rendered into its config), the network, the secrets and its image. */
export interface RabbitMqArgs extends Pick<DockerContext, "addresses" | "network" | "secretTopology"> {
  cfg: Pick<DeployConfig, "topology" | "secrets">;
  images: Pick<DockerContext["images"], "rabbitmq">;
}

/**
 * RabbitMQ: `rabbitmq.nodes` nodes, each with its volume, one cookie, the same files: definitions
 * (vhost, quorum queues) loaded on boot, the Prometheus plugin enabled, and for a cluster the
 * other nodes' names to join. Node 0 keeps the single node's names (container, host, volume), so
 * a deployment grown from one node keeps its data. A job imports the users — re-run, in place,
 * when a password rotates — and grows the quorum queues onto new nodes.
 */
export class RabbitMq extends pulumi.ComponentResource {
  /** The users job, once it succeeded: the services wait for it. */
  readonly ready: pulumi.Output<pulumi.Resource>;

  constructor(name: string, args: RabbitMqArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:RabbitMq", name, {}, opts);
    const t = args.cfg.topology;
    const conf = dockerRabbitmqConf(t, args.addresses);
    const definitions = renderRabbitmqDefinitions(t, { users: false });
    const containers = Array.from({ length: t.rabbitmq.nodes }, (_, i) => {
      const host = rabbitmqName(i);
      // Node 0's Pulumi names are the single node's, so growing to a cluster replaces nothing.
      const suffix = i === 0 ? "" : `-${i + 1}`;
      const volume = new docker.Volume(`${name}${suffix}-data`, { name: `${host}-data` }, { parent: this });
      const [attachment] = onNetwork(args.network, host);
      return new docker.Container(
        `${name}-node${suffix}`,
        {
          name: host,
          // The node name (rabbit@<hostname>) keys its data directory: it must not change between containers.
          hostname: host,
          image: args.images.rabbitmq,
          envs: [
            pulumi.interpolate`RABBITMQ_ERLANG_COOKIE=${args.cfg.secrets.rabbitmqErlangCookie}`,
            `RABBITMQ_DIST_PORT=${t.rabbitmq.distPort}`,
            `ERL_EPMD_PORT=${t.rabbitmq.epmdPort}`,
          ],
          uploads: [
            { file: PATHS.rabbitmqConf, content: conf },
            { file: PATHS.rabbitmqPlugins, content: renderEnabledPlugins() },
            // No users: the users job imports them, so a rotated password replaces no broker.
            { file: PATHS.rabbitmqDefinitions, content: definitions },
          ],
          volumes: [{ volumeName: volume.name, containerPath: PATHS.rabbitmqData }],
          // Clients of a cluster connect to the name every node answers to (rabbitmqClientHost).
          networksAdvanced: [
            t.rabbitmq.nodes === 1 ? attachment : { ...attachment, aliases: [host, RABBITMQ_CLUSTER_ALIAS] },
          ],
          healthcheck: healthcheck("rabbitmq-diagnostics -q check_port_connectivity", 60),
          ...limits("rabbitmq", t),
          ...LONG_RUNNING,
        },
        { parent: this, deleteBeforeReplace: true },
      );
    });
    const nodes = dockerRabbitmqNodes(t);
    const members = t.rabbitmq.nodes === 1 ? [] : nodes.slice(0, QUORUM_INITIAL_GROUP_SIZE);
    const clusterQueues = t.rabbitmq.nodes === 1 ? [] : definitionsQueueNames(t);
    this.ready = oneShotJob(
      `${name}-users`,
      {
        name: "rabbitmq-users",
        image: args.images.rabbitmq,
        envs: [
          pulumi.interpolate`RABBITMQ_ERLANG_COOKIE=${args.cfg.secrets.rabbitmqErlangCookie}`,
          `ERL_EPMD_PORT=${t.rabbitmq.epmdPort}`,
        ],
        entrypoints: ["sh", "-c"],
        command: [rabbitmqUsersScript(nodes, 180, { vhost: t.rabbitmq.vhost, queues: clusterQueues, members })],
        uploads: [{ file: RABBITMQ_USERS_FILE, content: args.secretTopology.apply(renderRabbitmqUsers) }],
        networksAdvanced: onNetwork(args.network, "rabbitmq-users"),
        ...limits("job", t),
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: containers },
      Object.values(args.cfg.secrets),
    ).succeeded;
    this.registerOutputs({ ready: this.ready });
  }
}
