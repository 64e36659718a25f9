import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderEnabledPlugins, renderRabbitmqConf, renderRabbitmqDefinitions, renderRabbitmqUsers } from "../render";
import type { Addresses, Topology } from "../topology";
import { NAMES } from "./addresses";
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
 * database, so a restart does not undo it. Tries for `waitSeconds` while the broker boots.
 */
export function rabbitmqUsersScript(node: string, waitSeconds = 180): string {
  const tries = Math.ceil(waitSeconds / 3);
  return [
    "umask 077",
    "i=0",
    `until rabbitmqctl -q --node ${node} import_definitions ${RABBITMQ_USERS_FILE} >/tmp/out 2>&1; do`,
    `  i=$((i + 1)); if [ "$i" -ge ${tries} ]; then cat /tmp/out >&2; echo "importing the users into ${node} failed for ${waitSeconds} s" >&2; exit 1; fi`,
    "  sleep 3",
    "done",
    `echo "users and permissions imported into ${node}"`,
  ].join("\n");
}

/** rabbitmq.conf on Docker: listeners on every interface, definitions from the mounted file. */
export function dockerRabbitmqConf(t: Topology, a: Addresses): string {
  return renderRabbitmqConf(t, {
    bindHost: "0.0.0.0",
    amqpPort: a.rabbitmq.port,
    managementPort: a.rabbitmqManagement.port,
    prometheusPort: a.rabbitmqPrometheus.port,
    definitionsFile: PATHS.rabbitmqDefinitions,
  });
}

/**
 * RabbitMQ: one node with its volume, definitions (vhost, queues) loaded on boot, Prometheus
 * plugin enabled, and a job that imports the users — re-run, in place, when a password rotates.
 */
export class RabbitMq extends pulumi.ComponentResource {
  /** The broker container. */
  readonly container: docker.Container;
  /** The users job, once it succeeded: the services wait for it. */
  readonly ready: pulumi.Output<pulumi.Resource>;

  constructor(name: string, ctx: DockerContext, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:RabbitMq", name, {}, opts);
    const t = ctx.cfg.topology;
    const volume = new docker.Volume(`${name}-data`, { name: "rabbitmq-data" }, { parent: this });
    this.container = new docker.Container(
      `${name}-node`,
      {
        name: NAMES.rabbitmq,
        // The node name (rabbit@<hostname>) keys its data directory: it must not change between containers.
        hostname: NAMES.rabbitmq,
        image: ctx.images.rabbitmq,
        envs: [
          pulumi.interpolate`RABBITMQ_ERLANG_COOKIE=${ctx.cfg.secrets.rabbitmqErlangCookie}`,
          `RABBITMQ_DIST_PORT=${t.rabbitmq.distPort}`,
          `ERL_EPMD_PORT=${t.rabbitmq.epmdPort}`,
        ],
        uploads: [
          { file: PATHS.rabbitmqConf, content: dockerRabbitmqConf(t, ctx.addresses) },
          { file: PATHS.rabbitmqPlugins, content: renderEnabledPlugins() },
          // No users: the users job imports them, so a rotated password replaces no broker.
          { file: PATHS.rabbitmqDefinitions, content: renderRabbitmqDefinitions(t, { users: false }) },
        ],
        volumes: [{ volumeName: volume.name, containerPath: PATHS.rabbitmqData }],
        networksAdvanced: onNetwork(ctx.network, NAMES.rabbitmq),
        healthcheck: healthcheck("rabbitmq-diagnostics -q check_port_connectivity", 60),
        ...limits("rabbitmq", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.ready = oneShotJob(
      `${name}-users`,
      {
        name: "rabbitmq-users",
        image: ctx.images.rabbitmq,
        envs: [
          pulumi.interpolate`RABBITMQ_ERLANG_COOKIE=${ctx.cfg.secrets.rabbitmqErlangCookie}`,
          `ERL_EPMD_PORT=${t.rabbitmq.epmdPort}`,
        ],
        entrypoints: ["sh", "-c"],
        command: [rabbitmqUsersScript(`rabbit@${NAMES.rabbitmq}`)],
        uploads: [{ file: RABBITMQ_USERS_FILE, content: ctx.secretTopology.apply(renderRabbitmqUsers) }],
        networksAdvanced: onNetwork(ctx.network, "rabbitmq-users"),
        ...limits("job", t),
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: [this.container] },
      Object.values(ctx.cfg.secrets),
    ).succeeded;
    this.registerOutputs({ container: this.container.name });
  }
}
