import { serviceEnv, type Addresses, type ServiceInstance, type ServicePaths, type Topology } from "../../topology";
import { PATHS } from "./context";

/** The static bucket as the services see it on Docker: a shared volume nginx serves under /static/. */
export const DOCKER_SERVICE_PATHS: ServicePaths = { staticDir: PATHS.staticDir, staticBaseUrl: "/static/" };

/** `KEY=value` lines for a Container's `envs`, sorted so re-renders are byte-identical. */
export function envList(env: Record<string, string>): string[] {
  return Object.entries(env)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
}

/** One service container's environment: the topology's, bound to 0.0.0.0 inside the container. */
export function appEnv(
  t: Topology,
  a: Addresses,
  instance: Omit<ServiceInstance, "host">,
  extra: Record<string, string> = {},
): string[] {
  return envList({ ...serviceEnv(t, a, { ...instance, host: "0.0.0.0" }, DOCKER_SERVICE_PATHS), ...extra });
}

/** The migration job's environment: the migrator user, and the administrator it seeds. */
export function migrateEnv(t: Topology, a: Addresses): string[] {
  return appEnv(
    t,
    a,
    { id: "migrate", port: t.api.basePort },
    {
      MYSQL_USER: t.mysql.users.migrator.name,
      MYSQL_PASSWORD: t.mysql.users.migrator.password,
      ADMIN_USERNAME: t.api.admin.username,
      ADMIN_PASSWORD: t.api.admin.password,
    },
  );
}
