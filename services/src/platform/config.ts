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

/** The administrator the migrate process seeds, from ADMIN_USERNAME and ADMIN_PASSWORD. */
export function loadAdminSeed(env: NodeJS.ProcessEnv = process.env): { username: string; password: string } | null {
  const username = env.ADMIN_USERNAME;
  const password = env.ADMIN_PASSWORD;
  if (!username && !password) return null;
  if (!username || !/^[a-z0-9_]{3,32}$/.test(username) || !password || password.length < 8) {
    process.stderr.write("ADMIN_USERNAME (3-32 of a-z0-9_) and ADMIN_PASSWORD (8+ characters) must be set together\n");
    process.exit(78);
  }
  return { username, password };
}
