/**
 * Entry point of the autoscaler on the Docker target: takes Alertmanager's ApiScaleOut / ApiScaleIn
 * notifications on POST /alerts and starts or stops the pre-created API slot containers within
 * min/max, a cooldown apart, holding while Prometheus is unreachable. (The local stack runs the same
 * controller inside `npm start`, acting on its own processes.)
 */
import pino from "pino";
import { loadAutoscalerEnv } from "../autoscaler/config";
import { Autoscaler } from "../autoscaler/controller";
import { DockerActuator } from "../autoscaler/docker-actuator";
import { autoscalerServer } from "../autoscaler/server";

function main(): void {
  let env;
  try {
    env = loadAutoscalerEnv();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const log = pino({ level: env.LOG_LEVEL, base: { instance: "autoscaler" } });
  const autoscaler = new Autoscaler(
    {
      min: env.AUTOSCALE_MIN_REPLICAS,
      max: env.AUTOSCALE_MAX_REPLICAS,
      cooldownSeconds: env.AUTOSCALE_COOLDOWN_SECONDS,
      scaleOutCpuPercent: env.AUTOSCALE_SCALE_OUT_CPU_PERCENT,
      scaleInCpuPercent: env.AUTOSCALE_SCALE_IN_CPU_PERCENT,
      scaleOutP99Ms: env.AUTOSCALE_SCALE_OUT_P99_MS,
      prometheusUrl: env.PROMETHEUS_URL,
    },
    new DockerActuator(env.AUTOSCALE_API_CONTAINERS, {
      container: env.AUTOSCALE_NGINX_CONTAINER,
      file: env.AUTOSCALE_NGINX_UPSTREAM_FILE,
      addresses: env.AUTOSCALE_API_ADDRESSES,
    }),
    log,
  );
  const server = autoscalerServer(autoscaler).listen(env.HTTP_PORT, env.HTTP_HOST, () =>
    log.info({ port: env.HTTP_PORT }, "autoscaler listening"),
  );
  const timer = setInterval(() => void autoscaler.tick(), 1000);
  const stop = () => {
    clearInterval(timer);
    server.close(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main();
