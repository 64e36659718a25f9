import { z } from "zod";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** The autoscaler service's environment (what infra/targets/docker/autoscaler.ts sets). */
export const AutoscalerEnvSchema = z
  .object({
    HTTP_HOST: z.string().default("0.0.0.0"),
    HTTP_PORT: int(1, 65535),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
    AUTOSCALE_TARGET: z.literal("docker"),
    AUTOSCALE_MIN_REPLICAS: int(1, 64),
    AUTOSCALE_MAX_REPLICAS: int(1, 64),
    AUTOSCALE_COOLDOWN_SECONDS: int(0, 3600),
    AUTOSCALE_SCALE_OUT_CPU_PERCENT: int(1, 100),
    AUTOSCALE_SCALE_IN_CPU_PERCENT: int(1, 100),
    AUTOSCALE_SCALE_OUT_P99_MS: int(1, 60_000),
    AUTOSCALE_API_CONTAINERS: z
      .string()
      .transform((s) => s.split(",").filter(Boolean))
      .pipe(z.array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/)).min(1)),
    /** host:port of each slot, in the order of AUTOSCALE_API_CONTAINERS: nginx's upstream lists the running ones. */
    AUTOSCALE_API_ADDRESSES: z
      .string()
      .transform((s) => s.split(",").filter(Boolean))
      .pipe(z.array(z.string().regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/)).min(1)),
    AUTOSCALE_NGINX_CONTAINER: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/),
    AUTOSCALE_NGINX_UPSTREAM_FILE: z.string().regex(/^\/[^\s]+$/),
    PROMETHEUS_URL: z.url(),
  })
  .refine((e) => e.AUTOSCALE_MIN_REPLICAS <= e.AUTOSCALE_MAX_REPLICAS, {
    path: ["AUTOSCALE_MIN_REPLICAS"],
    message: "must not exceed AUTOSCALE_MAX_REPLICAS",
  })
  .refine((e) => e.AUTOSCALE_API_ADDRESSES.length === e.AUTOSCALE_API_CONTAINERS.length, {
    path: ["AUTOSCALE_API_ADDRESSES"],
    message: "must name one address per AUTOSCALE_API_CONTAINERS entry",
  })
  .refine((e) => e.AUTOSCALE_MAX_REPLICAS <= e.AUTOSCALE_API_CONTAINERS.length, {
    path: ["AUTOSCALE_MAX_REPLICAS"],
    message: "must not exceed the number of AUTOSCALE_API_CONTAINERS",
  });

export type AutoscalerEnv = z.infer<typeof AutoscalerEnvSchema>;

/** Parse the environment; errors name the variable and its value. */
export function parseAutoscalerEnv(env: NodeJS.ProcessEnv): AutoscalerEnv {
  const parsed = AutoscalerEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const key = String(i.path[0]);
    return `${key} = ${env[key] === undefined ? "(unset)" : JSON.stringify(env[key])}: ${i.message}`;
  });
  throw new Error(`autoscaler configuration:\n  ${lines.join("\n  ")}`);
}

/** This process's configuration. */
export const loadAutoscalerEnv = () => parseAutoscalerEnv(process.env);
