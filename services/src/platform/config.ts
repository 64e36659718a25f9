import { parseServiceEnv, ServiceEnvError, type ServiceConfig } from "../../../infra/topology/service-env";

/** Read and validate the process environment once; exits naming the bad variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  try {
    return parseServiceEnv(env);
  } catch (err) {
    if (err instanceof ServiceEnvError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

export type { ServiceConfig };
