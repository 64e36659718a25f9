import pino from "pino";
import type { ServiceConfig } from "./config";

/** The process logger: JSON lines, tagged with the instance id, secrets redacted. */
export function createLogger(config: Pick<ServiceConfig, "INSTANCE_ID" | "LOG_LEVEL">) {
  return pino({
    level: config.LOG_LEVEL,
    base: { instance: config.INSTANCE_ID },
    redact: ["*.password", "*.PASSWORD", "*.authorization", "req.headers.authorization"],
  });
}

/** The logger type used across services. */
export type Logger = ReturnType<typeof createLogger>;
