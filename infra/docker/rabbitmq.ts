import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderEnabledPlugins, renderRabbitmqConf, renderRabbitmqDefinitions } from "../render";
import type { Addresses, Topology } from "../topology";
import { NAMES } from "./addresses";
import { healthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS, type DockerContext } from "./context";

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

/** RabbitMQ: one node with its volume, definitions (users, queues) loaded on boot, Prometheus plugin enabled. */
export class RabbitMq extends pulumi.ComponentResource {
  /** The broker container: the services wait for it to be healthy. */
  readonly container: docker.Container;

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
          { file: PATHS.rabbitmqDefinitions, content: ctx.secretTopology.apply((s) => renderRabbitmqDefinitions(s)) },
        ],
        volumes: [{ volumeName: volume.name, containerPath: PATHS.rabbitmqData }],
        networksAdvanced: onNetwork(ctx.network, NAMES.rabbitmq),
        healthcheck: healthcheck("rabbitmq-diagnostics -q check_port_connectivity", 60),
        ...limits("rabbitmq", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.registerOutputs({ container: this.container.name });
  }
}
