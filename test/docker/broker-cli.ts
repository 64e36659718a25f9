import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { RABBITMQ_USERS_FILE } from "../../infra/targets/docker/rabbitmq";
import { uploadsTar } from "../support/engine-provider";

/*
 * What the RabbitMQ real-engine tests ask of running broker containers: Debian's CLI run inside a
 * node's container (as the broker's user, with its cookie and node name), a wait for a condition,
 * and one run of the program's users job.
 */

/** Runs a command in a container: its output, or throws with it when it exits non-zero. */
export async function execIn(engine: Docker, container: string, cmd: string[]): Promise<string> {
  const exec = await engine.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (b: Buffer) => chunks.push(b));
  err.on("data", (b: Buffer) => chunks.push(b));
  engine.modem.demuxStream(stream, out, err);
  await new Promise((r) => stream.on("end", r));
  const { ExitCode } = await exec.inspect();
  const output = Buffer.concat(chunks).toString("utf8");
  if (ExitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${ExitCode}: ${output}`);
  return output;
}

/** The running nodes as the node in `container` sees its cluster, sorted. */
export async function runningNodes(engine: Docker, container: string): Promise<string[]> {
  const status = JSON.parse(
    await execIn(engine, container, ["rabbitmqctl", "-q", "cluster_status", "--formatter", "json"]),
  ) as {
    running_nodes: string[];
  };
  return [...status.running_nodes].sort();
}

/** A quorum queue's Raft members and their states ("leader", "follower"…) as the node in `container` reports them. */
export async function quorumMembers(
  engine: Docker,
  container: string,
  queue: string,
  vhost: string,
): Promise<Record<string, string>> {
  const rows = JSON.parse(
    await execIn(engine, container, [
      "rabbitmq-queues",
      "-q",
      "quorum_status",
      queue,
      "--vhost",
      vhost,
      "--formatter",
      "json",
    ]),
  ) as Array<Record<string, string>>;
  return Object.fromEntries(rows.map((r) => [r["Node Name"], r["Raft State"]]));
}

/** `check`'s first defined value, asked once a second for up to `seconds`; else throws naming `what` and the last error. */
export async function eventually<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  let last: unknown;
  for (
    const deadline = Date.now() + seconds * 1000;
    Date.now() < deadline;
    await new Promise((r) => setTimeout(r, 1000))
  ) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`${what} within ${seconds} s${last ? `: ${String(last)}` : ""}`);
}

/** One run of the users job (`script`) in a container of the rabbitmq image: its exit code and output. */
export async function runUsersJob(
  engine: Docker,
  job: { image: string; script: string; env: string[]; labels: Record<string, string>; network: string; users: string },
): Promise<{ code: number; output: string }> {
  const container = await engine.createContainer({
    Image: job.image,
    Entrypoint: ["sh", "-c"],
    Cmd: [job.script],
    Env: job.env,
    Labels: job.labels,
    HostConfig: { NetworkMode: job.network },
  });
  await container.putArchive(uploadsTar([{ file: RABBITMQ_USERS_FILE, content: job.users }]) as never, { path: "/" });
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  const output = (await container.logs({ stdout: true, stderr: true })).toString("utf8");
  await container.remove({ force: true });
  return { code: StatusCode, output };
}

/**
 * A broker container of the rabbitmq image as the Docker target runs one: its host name (the node
 * name's host), the cookie and distribution ports in its environment, its AMQP port published on
 * 127.0.0.1 only, on `network`. Created, not started.
 */
export function createBroker(
  engine: Docker,
  b: {
    name: string;
    host: string;
    image: string;
    cookie: string;
    ports: { amqp: number; dist: number; epmd: number };
    published: number;
    network: string;
    labels: Record<string, string>;
    binds?: string[];
    aliases?: string[];
  },
): Promise<Docker.Container> {
  return engine.createContainer({
    name: b.name,
    Hostname: b.host,
    Image: b.image,
    Env: [`RABBITMQ_ERLANG_COOKIE=${b.cookie}`, `RABBITMQ_DIST_PORT=${b.ports.dist}`, `ERL_EPMD_PORT=${b.ports.epmd}`],
    Labels: b.labels,
    ExposedPorts: { [`${b.ports.amqp}/tcp`]: {} },
    HostConfig: {
      NetworkMode: b.network,
      Binds: b.binds,
      PortBindings: { [`${b.ports.amqp}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(b.published) }] },
    },
    ...(b.aliases ? { NetworkingConfig: { EndpointsConfig: { [b.network]: { Aliases: b.aliases } } } } : {}),
  });
}
