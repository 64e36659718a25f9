import { renderMariadbCnf, renderNginxConf, renderPrometheusYml, renderRabbitmqConf, renderRedisConf } from "../render";
import type { Addresses, HostPort, Topology } from "../topology";
import { PATHS } from "./context";

/*
 * Every file the Kubernetes target mounts, as the renderers produce it for this target's
 * addresses and container paths: the one place the faithfulness test compares with the local stack.
 */

/** The rendered nginx.conf for Kubernetes: every API slot's Service in the upstream, static files from the edge volume. */
export function kubernetesNginxConf(t: Topology, a: Addresses): string {
  return renderNginxConf(t, a, {
    bindHost: "0.0.0.0",
    user: "nginx",
    paths: {
      prefix: "/var/cache/nginx",
      staticRoot: PATHS.staticRoot,
      pidFile: "/tmp/nginx.pid",
      errorLog: "/dev/stderr",
      accessLog: "/dev/stdout",
    },
  });
}

/** The container paths of a MariaDB server: the image's own datadir and socket, logs to stderr. */
export const MARIADB_PATHS = {
  datadir: "/var/lib/mysql",
  socket: "/run/mysqld/mysqld.sock",
  pidFile: "/run/mysqld/mysqld.pid",
  errorLog: "/dev/stderr",
  tmpdir: "/tmp",
} as const;

/** The rendered defaults-file of one server, as mounted. */
export function kubernetesMariadbCnf(
  t: Topology,
  a: { role: "primary" | "replica"; serverId: number; address: HostPort },
): string {
  return renderMariadbCnf(t, {
    role: a.role,
    serverId: a.serverId,
    port: a.address.port,
    bindHost: "0.0.0.0",
    paths: MARIADB_PATHS,
  });
}

/** redis.conf as every node mounts it (all nodes share one port, so one file serves them all). */
export function kubernetesRedisConf(t: Topology): string {
  return renderRedisConf(t, {
    port: t.redis.basePort,
    bindHost: "0.0.0.0",
    paths: { dir: "/data", pidFile: "/data/redis.pid", logFile: "/dev/stdout" },
  });
}

/** Where the definitions file is mounted (from a Secret: it holds the users' password hashes). */
export const RABBITMQ_DEFINITIONS_FILE = "/etc/rabbitmq/definitions/definitions.json";

/** rabbitmq.conf as mounted: listeners on every pod address at the topology's ports. */
export function kubernetesRabbitmqConf(t: Topology, a: Addresses): string {
  return renderRabbitmqConf(t, {
    bindHost: "0.0.0.0",
    amqpPort: a.rabbitmq.port,
    managementPort: a.rabbitmqManagement.port,
    prometheusPort: a.rabbitmqPrometheus.port,
    definitionsFile: RABBITMQ_DEFINITIONS_FILE,
  });
}

/** prometheus.yml as mounted: every rule file from the rules ConfigMap's directory. */
export function kubernetesPrometheusYml(t: Topology, a: Addresses, ruleFileNames: string[]): string {
  return renderPrometheusYml(t, a, {
    ruleFiles: [...ruleFileNames].sort().map((f) => `${PATHS.prometheusRules}/${f}`),
  });
}
