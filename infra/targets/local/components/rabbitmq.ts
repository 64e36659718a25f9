import path from "node:path";
import amqp from "amqplib";
import { hostPort } from "../../../topology";
import { renderEnabledPlugins, renderRabbitmqConf, renderRabbitmqDefinitions } from "../../../render";
import { exitedMessage, run, writeConfig, type StackContext } from "../context";
import { waitFor } from "../wait";
import { amqpUrl } from "../../clients";

/** The Erlang node name; distinct per stack so two stacks never confuse their CLI tools. */
export function rabbitNodeName(ctx: Pick<StackContext, "topology">): string {
  return `${ctx.topology.name}-${ctx.topology.rabbitmq.port}@localhost`;
}

/** The environment RabbitMQ's own scripts (server, rabbitmqctl) need to find this node. */
export function rabbitEnv(ctx: Pick<StackContext, "topology" | "layout">) {
  const dir = ctx.layout.dir("rabbitmq");
  const r = ctx.topology.rabbitmq;
  return {
    HOME: ctx.layout.dir("rabbitmq/home"),
    RABBITMQ_MNESIA_BASE: ctx.layout.dir("rabbitmq/mnesia"),
    RABBITMQ_LOG_BASE: ctx.layout.dir("rabbitmq/log"),
    RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
    RABBITMQ_NODENAME: rabbitNodeName(ctx),
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(r.port),
    RABBITMQ_DIST_PORT: String(r.distPort),
    ERL_EPMD_PORT: String(r.epmdPort),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    // Keep the Erlang distribution port on loopback too; by default it listens on every interface.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
  };
}

/** rabbitmqctl against this stack's node. */
export function rabbitmqctl(ctx: Pick<StackContext, "topology" | "layout">, args: string[]): Promise<string> {
  return run("rabbitmqctl", ["-n", rabbitNodeName(ctx), ...args], { env: rabbitEnv(ctx) });
}

export { amqpUrl };

/** Start RabbitMQ with the rendered config and definitions; ready when the app user can open a connection. */
export async function startRabbitmq(ctx: StackContext): Promise<void> {
  const dir = ctx.layout.dir("rabbitmq");
  const env = rabbitEnv(ctx);
  const definitionsFile = writeConfig(path.join(dir, "definitions.json"), renderRabbitmqDefinitions(ctx.topology));
  const a = ctx.addresses;
  writeConfig(
    env.RABBITMQ_CONFIG_FILE,
    renderRabbitmqConf(ctx.topology, {
      bindHost: ctx.bindHost,
      amqpPort: a.rabbitmq.port,
      managementPort: a.rabbitmqManagement.port,
      prometheusPort: a.rabbitmqPrometheus.port,
      definitionsFile,
    }),
  );
  writeConfig(env.RABBITMQ_ENABLED_PLUGINS_FILE, renderEnabledPlugins());
  ctx.supervisor.start({
    name: "rabbitmq",
    command: "/usr/lib/rabbitmq/bin/rabbitmq-server",
    args: [],
    env,
    logFile: ctx.layout.log("rabbitmq"),
    address: hostPort(a.rabbitmq),
    stopTimeoutMs: 30_000,
    // As a container restart policy would: a crashed broker comes back with its durable quorum queues.
    restart: true,
  });
  const ms = await waitFor(
    "rabbitmq",
    async () => {
      const connection = await amqp.connect(amqpUrl(ctx, "app"), { timeout: 1000 });
      await connection.close();
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 250, gone: exitedMessage(ctx, "rabbitmq") },
  );
  ctx.progress(`rabbitmq ready in ${ms} ms`);
}

/** Stop the epmd that RabbitMQ started: it daemonises and would outlive the node. */
export async function stopEpmd(epmdPort: number): Promise<void> {
  await run("epmd", ["-port", String(epmdPort), "-kill"], { timeoutMs: 5000 }).catch(() => undefined);
}
