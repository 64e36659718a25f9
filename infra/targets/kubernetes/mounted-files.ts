import {
  renderMariadbCnf,
  CONTAINER_NGINX_FILES,
  renderNginxConf,
  renderPrometheusYml,
  renderRabbitmqConf,
  renderRedisConf,
} from "../../render";
import { firstAddress, type Addresses, type HostPort, type Topology } from "../../topology";
import { PATHS } from "./context";
import { K8S_NAMES } from "./addresses";

/*
 * Every file the Kubernetes target mounts, as the renderers produce it for this target's
 * addresses and container paths: the one place the faithfulness test compares with the local stack.
 */

/** The rendered nginx.conf for Kubernetes: every API slot's Service in the upstream, static files from the edge volume. */
export function kubernetesNginxConf(t: Topology, a: Addresses): string {
  return renderNginxConf(t, a, {
    bindHost: "0.0.0.0",
    // No worker user: the image runs nginx as www-data, which a non-root master cannot change.
    paths: {
      prefix: PATHS.nginxPrefix,
      staticRoot: PATHS.staticRoot,
      ...CONTAINER_NGINX_FILES,
    },
  });
}

/** The datadir's folder in a server's volume; the runbooks' stack file tells mysql-failover, whose pods mount the claim's root. */
export const MARIADB_DATADIR_IN_VOLUME = "data";

/**
 * The container paths of a MariaDB server: the image's socket; the error log is the image's link to
 * stderr (mariadbd appends ".err" to a path without an extension, so /dev/stderr itself will not do).
 * The datadir is a folder inside the volume (mounted at PATHS.mariadbData), not its root: the
 * entry point's mariadb-install-db --user=mysql chowns the datadir to mysql, which the mysql user
 * can do only to a folder it created — a new volume's root is root's (fsGroup makes it writable, not
 * mysql's) — and a file system's lost+found stays out of the server's databases.
 */
export const MARIADB_PATHS = {
  datadir: `${PATHS.mariadbData}/${MARIADB_DATADIR_IN_VOLUME}`,
  socket: "/run/mysqld/mysqld.sock",
  pidFile: "/run/mysqld/mysqld.pid",
  errorLog: "/var/log/mysql/error.log",
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
    // An empty logfile is stdout: the redis user may not reopen the container's /dev/stdout.
    paths: { dir: PATHS.redisData, pidFile: "/tmp/redis.pid", logFile: '""' },
  });
}

/** Where the definitions file is mounted (from a Secret: it holds the users' password hashes). */
export const RABBITMQ_DEFINITIONS_FILE = "/etc/rabbitmq/definitions/definitions.json";

/**
 * The DNS suffix after a RabbitMQ pod's name (".rabbitmq-nodes.<namespace>.svc.<domain>"), as the
 * addresses name node 0: node names are rabbit@<pod><suffix>, and peer discovery appends it to each
 * endpoint's host name.
 */
export function rabbitmqPodSuffix(a: Addresses): string {
  const { host } = firstAddress(a, "rabbitmqNodeMetrics");
  return host.slice(host.indexOf("."));
}

/**
 * rabbitmq.conf as mounted: listeners on every pod address at the topology's ports; with more than
 * one node, peers found through the Kubernetes API as the headless Service's endpoints.
 */
export function kubernetesRabbitmqConf(t: Topology, a: Addresses): string {
  return renderRabbitmqConf(t, {
    bindHost: "0.0.0.0",
    amqpPort: a.rabbitmq.port,
    managementPort: a.rabbitmqManagement.port,
    prometheusPort: a.rabbitmqPrometheus.port,
    definitionsFile: RABBITMQ_DEFINITIONS_FILE,
    peerDiscovery: { backend: "k8s", serviceName: K8S_NAMES.rabbitmqNodes, hostnameSuffix: rabbitmqPodSuffix(a) },
  });
}

/** prometheus.yml as mounted: every rule file from the rules ConfigMap's directory. */
export function kubernetesPrometheusYml(t: Topology, a: Addresses, ruleFileNames: string[]): string {
  return renderPrometheusYml(t, a, {
    ruleFiles: [...ruleFileNames].sort().map((f) => `${PATHS.prometheusRules}/${f}`),
  });
}
