import type { Server } from "node:http";
import pino from "pino";
import { apiName, hostPort } from "../../../topology";
import { Autoscaler, type Actuator } from "../../../../services/src/autoscaler/controller";
import { autoscalerServer } from "../../../../services/src/autoscaler/server";
import { run, type StackContext } from "../context";
import { startApiReplica } from "./api";
import { writePrometheusYml } from "./monitoring";
import { nginxArgs, writeNginxConf } from "./nginx";

/**
 * The local stack's actuator: API replicas are processes of this stack. Scaling out starts the next
 * replicas (healthy before they get traffic), then re-renders nginx's upstream and reloads it
 * (SIGHUP: old workers finish their requests) and re-renders Prometheus's targets (POST /-/reload).
 * Scaling in takes replicas out of the upstream first, then stops them (SIGTERM: they drain).
 */
export class LocalApiActuator implements Actuator {
  constructor(private readonly ctx: StackContext) {}

  async running(): Promise<number> {
    return this.ctx.addresses.api.length;
  }

  async scaleTo(replicas: number): Promise<void> {
    const ctx = this.ctx;
    const current = ctx.addresses.api;
    if (replicas > current.length) {
      const host = current[0]?.host ?? ctx.bindHost;
      const added = Array.from({ length: replicas - current.length }, (_, k) => ({
        host,
        port: ctx.topology.api.basePort + current.length + k,
      }));
      await Promise.all(added.map((address, k) => startApiReplica(ctx, current.length + k, address)));
      ctx.addresses = { ...ctx.addresses, api: [...current, ...added] };
      await this.reloadEdges();
    } else if (replicas < current.length) {
      ctx.addresses = { ...ctx.addresses, api: current.slice(0, replicas) };
      await this.reloadEdges();
      for (let i = current.length - 1; i >= replicas; i--) await ctx.supervisor.stop(apiName(i));
    }
    ctx.progress(`autoscaler: ${replicas} API replicas (${ctx.addresses.api.map(hostPort).join(", ")})`);
  }

  private async reloadEdges(): Promise<void> {
    const ctx = this.ctx;
    const conf = writeNginxConf(ctx);
    await run("nginx", [...nginxArgs(ctx, conf), "-t", "-q"]);
    const nginx = ctx.supervisor.processes.get("nginx");
    if (nginx) process.kill(nginx.pid, "SIGHUP");
    writePrometheusYml(ctx);
    if (ctx.supervisor.processes.has("prometheus")) {
      const res = await fetch(`http://${hostPort(ctx.addresses.prometheus)}/-/reload`, { method: "POST" });
      if (!res.ok) throw new Error(`prometheus reload: HTTP ${res.status}`);
    }
  }
}

/** Run the autoscaler inside the stack process, on the topology's port; returns how to stop it. */
export async function startAutoscaler(ctx: StackContext): Promise<() => Promise<void>> {
  const t = ctx.topology;
  const address = ctx.addresses.autoscaler!;
  const log = pino({ level: "info", base: { instance: "autoscaler" } }, pino.destination(ctx.layout.log("autoscaler")));
  const autoscaler = new Autoscaler(
    {
      min: t.autoscaling.minReplicas,
      max: t.autoscaling.maxReplicas,
      cooldownSeconds: t.autoscaling.cooldownSeconds,
      scaleOutCpuPercent: t.autoscaling.scaleOutCpuPercent,
      scaleInCpuPercent: t.autoscaling.scaleInCpuPercent,
      scaleOutP99Ms: t.autoscaling.scaleOutP99Ms,
      prometheusUrl: `http://${hostPort(ctx.addresses.prometheus)}`,
    },
    new LocalApiActuator(ctx),
    log,
  );
  const server: Server = autoscalerServer(autoscaler);
  await new Promise<void>((resolve, reject) =>
    server.once("error", reject).listen(address.port, address.host, resolve),
  );
  const timer = setInterval(() => void autoscaler.tick(), 1000);
  ctx.progress(
    `autoscaler on http://${hostPort(address)}: ${t.autoscaling.minReplicas}–${t.autoscaling.maxReplicas} API replicas, cooldown ${t.autoscaling.cooldownSeconds} s`,
  );
  return async () => {
    clearInterval(timer);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
